package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.FakeWorker.Behaviour;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.PromptTree.SegmentRequest;
import dev.treepo.tree.TreeConfig.Allocation;
import dev.treepo.tree.TreeConfig.FallbackCut;
import dev.treepo.tree.TreeConfig.FallbackSource;
import dev.treepo.tree.TreeConfig.Mode;
import dev.treepo.tree.TreeDriver.SegmentRule;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Drives {@link MultiTurnScenario}, the example of a scenario that appends user turns, through PromptTree. */
class MultiTurnScenarioTest {

    private static final int TURNS = 3;
    private static final int SEGMENT = 5;

    @ParameterizedTest(name = "width {0}, depth {1}, {2}, decoder {3}")
    @CsvSource({
        "4, 6, RANDOM_BLOCK, true",
        "8, 8, MIN_LOGPROB, true",
        "8, 8, MIN_LOGPROB, false",
        "16, 5, RANDOM_BLOCK, false",
        "8, 10, FROM_START, true"
    })
    void userTurnsAreAppendedUntrainedAndNeverCut(int width, int depth, FallbackCut cut, boolean withDecoder) {
        for (int seed = 0; seed < 6; seed++) {
            TreeConfig config = new TreeConfig(Mode.TREE, width, SEGMENT, depth, 2, 2, Allocation.EVEN, 1.0,
                    SEGMENT * depth + 3, FallbackSource.CLEAN_FIRST, cut, 3, 64, 3);
            TreeDriver driver = new TreeDriver(config, new MultiTurnScenario(TURNS), Behaviour.CHATTY, seed,
                    withDecoder).run();

            driver.checkLeaves(SegmentRule.TURNS);
            for (Leaf leaf : driver.tree.leaves()) {
                checkTurns(leaf);
                if (leaf.finishReason() == FinishReason.EOS) {
                    assertEquals(TURNS, countGeneratedEos(leaf), "an EOS finish has all turns");
                } else {
                    assertTrue(countGeneratedEos(leaf) < TURNS, "a cut-off dialogue has fewer turns");
                }
            }
            for (SegmentRequest request : driver.requests.values()) {
                int[] append = request.appendTokens();
                assertTrue(append.length == 0 || request.parentNodeId() < 0
                        || Arrays.equals(MultiTurnScenario.USER_TURN, append), "append is the user turn or empty");
            }
        }
    }

    /** Checks that every mask-0 run is one whole user turn right after a generated EOS, and vice versa. */
    private static void checkTurns(Leaf leaf) {
        int[] tokens = leaf.responseTokens();
        float[] mask = leaf.lossMask();
        int userLength = MultiTurnScenario.USER_TURN.length;
        int i = 0;
        while (i < tokens.length) {
            if (mask[i] == 0) {
                String where = "user turn at " + i + " of leaf " + leaf.nodeId();
                assertTrue(i > 0, where + " starts the response");
                assertEquals(FakeVocabulary.EOS, tokens[i - 1], where + " does not follow EOS");
                assertEquals(1f, mask[i - 1], where + " follows an appended token");
                assertTrue(i + userLength <= tokens.length, "user turn cut at the end of leaf " + leaf.nodeId());
                assertArrayEquals(MultiTurnScenario.USER_TURN, Arrays.copyOfRange(tokens, i, i + userLength));
                for (int k = i; k < i + userLength; k++) {
                    assertEquals(0f, mask[k], "user turn token " + k + " is not trained");
                    assertEquals(0f, leaf.logprobs()[k], "user turn token " + k + " has no logprob");
                }
                i += userLength;
                assertTrue(i < tokens.length, where + " ends the response");
                assertEquals(1f, mask[i], where + " is not followed by generated tokens");
            } else {
                boolean turnEnd = tokens[i] == FakeVocabulary.EOS && i < tokens.length - 1;
                if (turnEnd) {
                    assertEquals(0f, mask[i + 1], "EOS at " + i + " of leaf " + leaf.nodeId()
                            + " continues without a user turn");
                }
                i++;
            }
        }
    }

    private static int countGeneratedEos(Leaf leaf) {
        int count = 0;
        for (int i = 0; i < leaf.responseLength(); i++) {
            if (leaf.responseTokens()[i] == FakeVocabulary.EOS && leaf.lossMask()[i] == 1) {
                count++;
            }
        }
        return count;
    }
}
