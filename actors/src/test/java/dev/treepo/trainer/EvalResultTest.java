package dev.treepo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.rollout.TreeRoot.TreeFinished;
import dev.treepo.task.BoxedMatchReward;
import dev.treepo.task.Problem;
import dev.treepo.tree.FinishReason;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EvalResultTest {

    private static final double EPS = 1e-12;

    /** Three problems at level 1 and one at level 3, so that level 2 is absent. */
    private static final List<Problem> PROBLEMS = List.of(
            new Problem("p0", "1+1", "2", "", 1),
            new Problem("p1", "2+2", "4", "", 3),
            new Problem("p2", "3+3", "6", "", 1),
            new Problem("p3", "4+4", "8", "", 1));

    @Test
    void levelsSplitBothAccuracies() {
        // greedy: right, right, wrong, right. Samples: 2 of 2, 1 of 2, 0 of 2, 1 of 2 right.
        List<TreeFinished> greedy = List.of(
                tree(0, "\\boxed{2}"), tree(1, "\\boxed{4}"), tree(2, "\\boxed{7}"), tree(3, "\\boxed{8}"));
        List<TreeFinished> sampled = List.of(
                tree(0, "\\boxed{2}", "\\boxed{2}"),
                tree(1, "\\boxed{4}", "\\boxed{5}"),
                tree(2, "\\boxed{1}", "\\boxed{0}"),
                tree(3, "\\boxed{9}", "\\boxed{8}"));

        EvalResult result = EvalResult.score(greedy, sampled, PROBLEMS, new AsciiTokenizer(), new BoxedMatchReward());

        assertEquals(0.75, result.greedyAccuracy(), EPS);
        assertEquals(0.5, result.sampledAccuracy(), EPS);
        assertEquals(2, result.samples());
        assertEquals(2, result.levels().size());

        LevelAccuracy first = result.levels().get(0);
        assertEquals(1, first.level());
        assertEquals(3, first.problems());
        assertEquals(2.0 / 3, first.greedyAccuracy(), EPS);
        assertEquals(1.5 / 3, first.sampledAccuracy(), EPS);

        LevelAccuracy third = result.levels().get(1);
        assertEquals(3, third.level());
        assertEquals(1, third.problems());
        assertEquals(1.0, third.greedyAccuracy(), EPS);
        assertEquals(0.5, third.sampledAccuracy(), EPS);
    }

    @Test
    void pairedTestUsesPerProblemChanges() {
        // Fractions of correct samples per problem: before 1, 1/2, 0, 1/2; after 1, 1, 1/2, 1/2.
        EvalResult before = EvalResult.score(List.of(), List.of(
                tree(0, "\\boxed{2}", "\\boxed{2}"),
                tree(1, "\\boxed{4}", "\\boxed{5}"),
                tree(2, "\\boxed{1}", "\\boxed{0}"),
                tree(3, "\\boxed{9}", "\\boxed{8}")), PROBLEMS, new AsciiTokenizer(), new BoxedMatchReward());
        EvalResult after = EvalResult.score(List.of(), List.of(
                tree(0, "\\boxed{2}", "\\boxed{2}"),
                tree(1, "\\boxed{4}", "\\boxed{4}"),
                tree(2, "\\boxed{6}", "\\boxed{0}"),
                tree(3, "\\boxed{9}", "\\boxed{8}")), PROBLEMS, new AsciiTokenizer(), new BoxedMatchReward());

        // Unpaired: 0.25 / sqrt(1/24 + 1/48) = 1. Paired: changes 0, 1/2, 1/2, 0 have mean 1/4 and
        // standard error sqrt((1/12) / 4), so 1/4 divided by it is sqrt(3).
        assertEquals(1.0, before.sampledImprovementInStdErrs(after), 1e-9);
        assertEquals(Math.sqrt(3), before.sampledPairedImprovementInStdErrs(after), 1e-9);
    }

    @Test
    void pairedTestRejectsDifferentProblemCounts() {
        EvalResult four = EvalResult.score(List.of(), List.of(), PROBLEMS, new AsciiTokenizer(), new BoxedMatchReward());
        EvalResult three = EvalResult.score(List.of(), List.of(), PROBLEMS.subList(0, 3), new AsciiTokenizer(),
                new BoxedMatchReward());

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> four.greedyPairedImprovementInStdErrs(three));
        assertTrue(error.getMessage().contains("4 and 3 problems"), error.getMessage());
    }

    @Test
    void scoreCountsMustMatch() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new EvalResult(1, List.of(), new double[2], new double[3]));
        assertTrue(error.getMessage().contains("2 greedy scores but 3 sampled scores"), error.getMessage());
    }

    @Test
    void noProblemsGiveNoLevels() {
        EvalResult result = EvalResult.score(List.of(), List.of(), List.of(), new AsciiTokenizer(), new BoxedMatchReward());

        assertEquals(List.of(), result.levels());
        assertEquals(0, result.problems());
    }

    private static TreeFinished tree(int promptIndex, String... responses) {
        List<Leaf> leaves = new ArrayList<>();
        for (int i = 0; i < responses.length; i++) {
            int[] tokens = responses[i].chars().toArray();
            leaves.add(new Leaf(promptIndex, i, new int[] {i}, tokens, new float[tokens.length],
                    new float[tokens.length], FinishReason.BOXED_ANSWER, new int[] {tokens.length}));
        }
        return new TreeFinished(promptIndex, promptIndex, leaves, new TreeStats(1, 0, 0, 1, 0), 0, 0, Set.of(), java.util.Map.of());
    }

    /** Maps each ASCII character to its own code as id, which is enough for scoring. */
    private static final class AsciiTokenizer implements Tokenizer {
        @Override
        public int[] encode(String text) {
            return text.chars().toArray();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder text = new StringBuilder();
            for (int id : ids) {
                text.append((char) id);
            }
            return text.toString();
        }

        @Override
        public int vocabSize() {
            return 128;
        }

        @Override
        public int eosId() {
            return 0;
        }

        @Override
        public int padId() {
            return 1;
        }

        @Override
        public void close() {
        }
    }
}
