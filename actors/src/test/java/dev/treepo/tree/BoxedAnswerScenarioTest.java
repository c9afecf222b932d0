package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.PromptTree.SegmentResult;
import dev.treepo.tree.TreeConfig.Allocation;
import dev.treepo.tree.TreeConfig.FallbackCut;
import dev.treepo.tree.TreeConfig.FallbackSource;
import dev.treepo.tree.TreeConfig.Mode;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BoxedAnswerScenarioTest {

    private static final int SEGMENT = 10;
    private static final int MAX_DEPTH = 4;
    private static final int MAX_TOKENS = 35;

    private final BoxedAnswerScenario scenario = new BoxedAnswerScenario(new TreeConfig(Mode.TREE, 4, SEGMENT,
            MAX_DEPTH, 2, 2, Allocation.EVEN, 1.0, MAX_TOKENS, FallbackSource.CLEAN_FIRST, FallbackCut.RANDOM_BLOCK,
            0, 4, 3));

    /** Builds a path of segments with the given texts, each of {@code tokens} tokens; the last may end with EOS. */
    private static TreePath path(int tokens, boolean lastEndsWithEos, String... texts) {
        TreePath path = TreePath.empty(new int[] {1});
        for (int i = 0; i < texts.length; i++) {
            boolean eos = lastEndsWithEos && i == texts.length - 1;
            path = path.extend(i, new int[0], new SegmentResult(i, new int[tokens], new float[tokens], eos, texts[i]));
        }
        return path;
    }

    private Optional<FinishReason> finishLast(TreePath path, boolean eos, String lastText) {
        return scenario.finish(path, new Segment(new int[0], new float[0], eos, lastText));
    }

    @Test
    void boxedAnswerSplitAcrossSegmentsIsFound() {
        TreePath first = path(SEGMENT, false, "so x = \\box");
        assertEquals(Optional.empty(), finishLast(first, false, "so x = \\box"));

        TreePath both = path(SEGMENT, false, "so x = \\box", "ed{42} done");
        assertEquals(Optional.of(FinishReason.BOXED_ANSWER), finishLast(both, false, "ed{42} done"));
    }

    @Test
    void closingBraceInLaterSegmentCompletesTheBox() {
        TreePath open = path(SEGMENT, false, "ans \\boxed{\\frac{1}", "{2}");
        assertEquals(Optional.empty(), finishLast(open, false, "{2}"));
        TreePath closed = path(SEGMENT, false, "ans \\boxed{\\frac{1}", "{2}", "} ok");
        assertEquals(Optional.of(FinishReason.BOXED_ANSWER), finishLast(closed, false, "} ok"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "\\boxed{42}|42",
        "x \\boxed{\\frac{1}{2}} y|\\frac{1}{2}",
        "\\boxed{1} then \\boxed{2}|2",
        "\\boxed{1} then \\boxed{2|1",
        "\\boxed{a{b{c}}d}|a{b{c}}d",
    })
    void lastBoxedAnswerHandlesNesting(String text, String expected) {
        assertEquals(Optional.of(expected), BoxedAnswerScenario.lastBoxedAnswer(text));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"no box here", "\\boxed{", "\\boxed{\\frac{1}{2}", "boxed{3}"})
    void lastBoxedAnswerIsEmptyWithoutClosedBox(String text) {
        assertEquals(Optional.empty(), BoxedAnswerScenario.lastBoxedAnswer(text));
    }

    @Test
    void eosWithOpenBoxIsUnclosedAnswer() {
        TreePath path = path(SEGMENT, true, "the answer is \\boxed{4");
        assertEquals(Optional.of(FinishReason.UNCLOSED_ANSWER), finishLast(path, true, "the answer is \\boxed{4"));
    }

    @Test
    void openBoxWithoutEosContinues() {
        TreePath path = path(SEGMENT, false, "the answer is \\boxed{4");
        assertEquals(Optional.empty(), finishLast(path, false, "the answer is \\boxed{4"));
    }

    @Test
    void eosWithoutBoxIsEos() {
        TreePath path = path(3, true, "done");
        assertEquals(Optional.of(FinishReason.EOS), finishLast(path, true, "done"));
    }

    @Test
    void boxedAnswerOutranksEosAndLimits() {
        TreePath path = path(SEGMENT, true, "aaaa", "bbbb", "cccc", "\\boxed{7}");
        assertEquals(Optional.of(FinishReason.BOXED_ANSWER), finishLast(path, true, "\\boxed{7}"));
    }

    @Test
    void maxTokensBeforeMaxDepth() {
        // 4 segments of 10 tokens: 40 >= 35 tokens and depth 4 >= 4; the length check comes first.
        TreePath path = path(SEGMENT, false, "a", "b", "c", "d");
        assertEquals(Optional.of(FinishReason.MAX_TOKENS), finishLast(path, false, "d"));
        TreePath exact = path(7, false, "a", "b", "c", "d", "e");
        assertEquals(35, exact.responseLength());
        assertEquals(Optional.of(FinishReason.MAX_TOKENS), finishLast(exact, false, "e"));
    }

    @Test
    void maxDepthWhenTokensRemain() {
        TreePath path = path(2, false, "a", "b", "c", "d");
        assertEquals(Optional.of(FinishReason.MAX_DEPTH), finishLast(path, false, "d"));
        TreePath shallow = path(2, false, "a", "b", "c");
        assertEquals(Optional.empty(), finishLast(shallow, false, "c"));
    }

    @Test
    void depthOutranksRepetition() {
        TreePath path = path(2, false, "a", "b", "c", "abcdabcdabcd");
        assertEquals(Optional.of(FinishReason.MAX_DEPTH), finishLast(path, false, "abcdabcdabcd"));
    }

    @Test
    void repetitionLooksOnlyAtThisSegment() {
        // Window 4, count 3: "abcd" three times in one segment stops the path.
        TreePath repeated = path(2, false, "abcdabcdabcd");
        assertEquals(Optional.of(FinishReason.REPETITION), finishLast(repeated, false, "abcdabcdabcd"));
        // Twice in one segment and once in the previous one does not.
        TreePath spread = path(2, false, "abcd", "abcdabcd");
        assertEquals(Optional.empty(), finishLast(spread, false, "abcdabcd"));
    }

    @ParameterizedTest(name = "\"{0}\" window {1} count {2}: {3}")
    @CsvSource({
        "abcdabcdabcd, 4, 3, true",
        "abcdabcdabc, 4, 3, false",
        "aaaaaa, 4, 3, true",
        "aaaaa, 4, 3, false",
        "abc, 4, 2, false",
        "xyxyxyxyxyxy, 2, 6, true",
        "xyxyxyxyxyx, 2, 6, false",
    })
    void repetitionCountsOverlappingWindows(String text, int window, int count, boolean expected) {
        assertEquals(expected, BoxedAnswerScenario.hasRepetition(text, window, count));
    }

    @Test
    void defaultRepetitionRuleMatchesConfigDefaults() {
        assertTrue(BoxedAnswerScenario.hasRepetition("a".repeat(39), 32, 8));
        assertFalse(BoxedAnswerScenario.hasRepetition("a".repeat(38), 32, 8));
    }
}
