package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.FallbackPlanner.Regrowth;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeConfig.Allocation;
import dev.treepo.tree.TreeConfig.FallbackCut;
import dev.treepo.tree.TreeConfig.FallbackSource;
import dev.treepo.tree.TreeConfig.Mode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FallbackPlannerTest {

    private static final int SEGMENT = 8;

    private static TreeConfig config(FallbackSource source, FallbackCut cut, int blockTokens, int maxDepth,
            int maxResponseTokens, int branch) {
        return new TreeConfig(Mode.TREE, 8, SEGMENT, maxDepth, 2, branch, Allocation.EVEN, 1.0, maxResponseTokens,
                source, cut, blockTokens, 32, 8);
    }

    /** Builds a finished leaf of generated tokens only, split into nodes of the given lengths. */
    private static Leaf leaf(int nodeId, FinishReason reason, int... segmentLengths) {
        int length = Arrays.stream(segmentLengths).sum();
        float[] mask = new float[length];
        Arrays.fill(mask, 1f);
        float[] logprobs = new float[length];
        Arrays.fill(logprobs, -1f);
        int[] path = new int[segmentLengths.length];
        for (int i = 0; i < path.length; i++) {
            path[i] = nodeId - path.length + 1 + i;
        }
        return new Leaf(0, nodeId, path, new int[length], logprobs, mask, reason, segmentLengths);
    }

    private static Leaf withLogprob(Leaf leaf, int position, float logprob) {
        float[] logprobs = leaf.logprobs().clone();
        logprobs[position] = logprob;
        return new Leaf(leaf.promptIndex(), leaf.nodeId(), leaf.nodePath(), leaf.responseTokens(), logprobs,
                leaf.lossMask(), leaf.finishReason(), leaf.segmentLengths());
    }

    private static Leaf withAppended(Leaf leaf, int from, int to) {
        float[] mask = leaf.lossMask().clone();
        float[] logprobs = leaf.logprobs().clone();
        Arrays.fill(mask, from, to, 0f);
        Arrays.fill(logprobs, from, to, 0f);
        return new Leaf(leaf.promptIndex(), leaf.nodeId(), leaf.nodePath(), leaf.responseTokens(), logprobs, mask,
                leaf.finishReason(), leaf.segmentLengths());
    }

    @Test
    void randomBlockDrawsEveryBlockBoundary() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.RANDOM_BLOCK, 0, 6, 0, 2);
        Leaf source = leaf(10, FinishReason.EOS, 8, 8, 4);
        Set<Integer> cuts = new HashSet<>();
        SplittableRandom rng = new SplittableRandom(1);
        for (int draw = 0; draw < 300; draw++) {
            cuts.add(FallbackPlanner.cutPoint(source, config, rng));
        }
        // B = ceil(20 / 8) = 3 blocks aligned to the start; dropping 1..3 keeps 16, 8 or 0 tokens.
        assertEquals(Set.of(0, 8, 16), cuts);
    }

    @ParameterizedTest(name = "length {0}, block {1}")
    @CsvSource({"1, 0", "1, 5", "7, 0", "8, 8", "9, 8", "3, 1"})
    void randomBlockNeverFailsOnShortPaths(int length, int blockTokens) {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.RANDOM_BLOCK, blockTokens, 6, 0, 2);
        Leaf source = leaf(3, FinishReason.EOS, length);
        SplittableRandom rng = new SplittableRandom(length);
        for (int draw = 0; draw < 50; draw++) {
            int kept = FallbackPlanner.cutPoint(source, config, rng);
            assertTrue(kept >= 0, "kept " + kept);
            assertTrue(kept < length, "kept " + kept + " of " + length);
            int block = config.effectiveFallbackBlockTokens();
            assertEquals(0, kept % block, "kept " + kept + " is not on a block boundary of " + block);
        }
    }

    @Test
    void minLogprobCutsAtLowestGeneratedToken() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.MIN_LOGPROB, 0, 6, 0, 2);
        Leaf source = withLogprob(withLogprob(leaf(5, FinishReason.EOS, 8, 8), 11, -9f), 3, -7f);
        assertEquals(11, FallbackPlanner.cutPoint(source, config, new SplittableRandom(1)));
    }

    @Test
    void minLogprobOnFirstTokenRestartsFromPrompt() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.MIN_LOGPROB, 0, 6, 0, 2);
        Leaf source = withLogprob(leaf(5, FinishReason.EOS, 8, 8), 0, -9f);
        assertEquals(0, FallbackPlanner.cutPoint(source, config, new SplittableRandom(1)));
    }

    @Test
    void cutAfterAppendedTokensMovesBeforeThem() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.MIN_LOGPROB, 0, 6, 0, 2);
        // Node 2 starts with 3 appended tokens at positions 8..10. The lowest logprob is at 11, the first
        // generated token after them, so the raw cut would end right after the appended run.
        Leaf source = withLogprob(withAppended(leaf(5, FinishReason.EOS, 8, 8), 8, 11), 11, -9f);
        assertEquals(8, FallbackPlanner.cutPoint(source, config, new SplittableRandom(1)));
        assertEquals(8, FallbackPlanner.snapBeforeAppended(source.lossMask(), 9), "inside the run");
        assertEquals(8, FallbackPlanner.snapBeforeAppended(source.lossMask(), 8), "at the run start");
        assertEquals(12, FallbackPlanner.snapBeforeAppended(source.lossMask(), 12), "after a generated token");
    }

    @Test
    void cutLeavesDepthForOneSegment() {
        // A source with more nodes than the max depth allows (not produced by PromptTree): keeping
        // 2 whole nodes at max depth 2 would leave no depth, so the cut moves to the start of node 2.
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.MIN_LOGPROB, 0, 2, 0, 2);
        Leaf source = withLogprob(leaf(5, FinishReason.MAX_DEPTH, 2, 2, 2), 5, -9f);
        assertEquals(2, FallbackPlanner.cutPoint(source, config, new SplittableRandom(1)));
    }

    @Test
    void cutKeepsFewerThanMaxResponseTokens() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.MIN_LOGPROB, 0, 6, 6, 2);
        Leaf source = withLogprob(leaf(5, FinishReason.MAX_TOKENS, 8, 2), 9, -9f);
        assertEquals(5, FallbackPlanner.cutPoint(source, config, new SplittableRandom(1)));
    }

    @Test
    void cleanFirstTakesCleanSourcesFirst() {
        List<Leaf> finished = List.of(leaf(1, FinishReason.REPETITION, 4), leaf(2, FinishReason.EOS, 4),
                leaf(3, FinishReason.MAX_DEPTH, 4), leaf(4, FinishReason.BOXED_ANSWER, 4),
                leaf(5, FinishReason.UNCLOSED_ANSWER, 4));
        TreeConfig tree = config(FallbackSource.CLEAN_FIRST, FallbackCut.RANDOM_BLOCK, 0, 6, 0, 1);
        Set<List<Integer>> orders = new HashSet<>();
        for (int seed = 0; seed < 40; seed++) {
            List<Regrowth> plans = FallbackPlanner.plan(finished, 5, tree, new SplittableRandom(seed));
            assertEquals(5, plans.size());
            List<Integer> order = new ArrayList<>();
            for (Regrowth plan : plans) {
                order.add(plan.sourceIndex());
                assertEquals(1, plan.copies());
            }
            assertEquals(Set.of(1, 3), Set.copyOf(order.subList(0, 2)), "clean sources first: " + order);
            orders.add(order);
        }
        assertTrue(orders.size() > 4, "sources are shuffled: " + orders);
    }

    @Test
    void anyShufflesAllSources() {
        List<Leaf> finished = List.of(leaf(1, FinishReason.REPETITION, 4), leaf(2, FinishReason.EOS, 4),
                leaf(3, FinishReason.MAX_DEPTH, 4));
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.RANDOM_BLOCK, 0, 6, 0, 1);
        Set<Integer> firsts = new HashSet<>();
        for (int seed = 0; seed < 40; seed++) {
            firsts.add(FallbackPlanner.plan(finished, 3, config, new SplittableRandom(seed)).get(0).sourceIndex());
        }
        assertEquals(Set.of(0, 1, 2), firsts);
    }

    @ParameterizedTest(name = "slots {0}, branch {1}, sources {2} -> {3}")
    @CsvSource({"5, 2, 2, 2 2", "5, 2, 4, 2 2 1", "3, 3, 2, 3", "1, 3, 4, 1", "7, 1, 3, 1 1 1"})
    void copiesPerSourceUpToBranchFactor(int slots, int branch, int sources, String expected) {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.RANDOM_BLOCK, 0, 6, 0, branch);
        List<Leaf> finished = new ArrayList<>();
        for (int i = 0; i < sources; i++) {
            finished.add(leaf(i, FinishReason.EOS, 4));
        }
        List<Regrowth> plans = FallbackPlanner.plan(finished, slots, config, new SplittableRandom(2));
        int[] copies = plans.stream().mapToInt(Regrowth::copies).toArray();
        assertEquals(expected, String.join(" ", Arrays.stream(copies).mapToObj(String::valueOf).toList()));
        assertEquals(plans.size(), plans.stream().mapToInt(Regrowth::sourceIndex).distinct().count());
    }

    @Test
    void fromStartPlansOneSourceFromPrompt() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.FROM_START, 0, 6, 0, 2);
        List<Leaf> finished = List.of(leaf(1, FinishReason.EOS, 8, 8), leaf(2, FinishReason.EOS, 8));
        List<Regrowth> plans = FallbackPlanner.plan(finished, 6, config, new SplittableRandom(1));
        assertEquals(1, plans.size());
        assertEquals(0, plans.get(0).keptTokens());
        assertEquals(2, plans.get(0).copies());
    }

    @Test
    void independentModeRegrowsAllSlotsFromPrompt() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.MIN_LOGPROB, 0, 6, 0, 2).independent(8);
        List<Leaf> finished = List.of(leaf(1, FinishReason.EOS, 8, 8));
        List<Regrowth> plans = FallbackPlanner.plan(finished, 7, config, new SplittableRandom(1));
        assertEquals(List.of(new Regrowth(0, 0, 7)), plans);
    }

    @Test
    void noFinishedPathMeansFreshRoot() {
        TreeConfig config = config(FallbackSource.CLEAN_FIRST, FallbackCut.RANDOM_BLOCK, 0, 6, 0, 2);
        assertEquals(List.of(new Regrowth(-1, 0, 2)), FallbackPlanner.plan(List.of(), 5, config,
                new SplittableRandom(1)));
    }

    @Test
    void rejectsZeroSlots() {
        TreeConfig config = config(FallbackSource.ANY, FallbackCut.RANDOM_BLOCK, 0, 6, 0, 2);
        assertThrows(IllegalArgumentException.class, () -> FallbackPlanner.plan(List.of(), 0, config,
                new SplittableRandom(1)));
    }
}
