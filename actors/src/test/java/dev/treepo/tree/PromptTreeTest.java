package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.FakeWorker.Behaviour;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.PromptTree.SegmentRequest;
import dev.treepo.tree.PromptTree.SegmentResult;
import dev.treepo.tree.TreeConfig.Allocation;
import dev.treepo.tree.TreeConfig.FallbackCut;
import dev.treepo.tree.TreeConfig.FallbackSource;
import dev.treepo.tree.TreeConfig.Mode;
import dev.treepo.tree.TreeDriver.SegmentRule;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class PromptTreeTest {

    private static final int SEGMENT = 6;
    private static final int SEEDS = 4;

    static TreeConfig config(Mode mode, int width, int depth, int rootDivergence, int branch, Allocation allocation,
            int maxResponseTokens, FallbackSource source, FallbackCut cut, int blockTokens, int window) {
        return new TreeConfig(mode, width, SEGMENT, depth, rootDivergence, branch, allocation, 1.0,
                maxResponseTokens, source, cut, blockTokens, window, 3);
    }

    static Stream<Arguments> shapes() {
        List<Arguments> shapes = new ArrayList<>();
        for (int width : new int[] {4, 8, 16}) {
            for (int branch : new int[] {2, 3}) {
                for (int depth = 2; depth <= 6; depth++) {
                    for (Behaviour behaviour : EnumSet.of(Behaviour.MIXED, Behaviour.EOS_IN_FIRST_SEGMENT,
                            Behaviour.NEVER_FINISHES)) {
                        shapes.add(Arguments.of(width, branch, depth, behaviour));
                    }
                }
            }
        }
        return shapes.stream();
    }

    /**
     * Grows trees over seeds, cycling through allocation, fallback source, cut, block size, response
     * limit and decoder, and checks the invariants after every level and on the leaves.
     */
    @ParameterizedTest(name = "width {0}, branch {1}, depth {2}, {3}")
    @MethodSource("shapes")
    void exactlyWidthLeavesWithInvariants(int width, int branch, int depth, Behaviour behaviour) {
        Allocation[] allocations = Allocation.values();
        FallbackCut[] cuts = FallbackCut.values();
        for (int seed = 0; seed < SEEDS; seed++) {
            Allocation allocation = allocations[seed % allocations.length];
            FallbackCut cut = cuts[(seed + width + depth) % cuts.length];
            FallbackSource source = FallbackSource.values()[(seed / 2) % 2];
            int blockTokens = seed % 2 == 0 ? 0 : SEGMENT / 2;
            // A limit below segment-tokens * max-depth forces a short last segment; one above it lets
            // paths end at the max depth.
            int[] limits = {0, SEGMENT * depth - 2, SEGMENT * depth + 5};
            int maxResponseTokens = limits[seed % limits.length];
            boolean withDecoder = seed % 3 != 2;
            int window = behaviour == Behaviour.NEVER_FINISHES ? 64 : 3;
            TreeConfig config = config(Mode.TREE, width, depth, 2, branch, allocation, maxResponseTokens, source, cut,
                    blockTokens, window);
            TreeDriver driver = new TreeDriver(config, new BoxedAnswerScenario(config), behaviour, seed, withDecoder)
                    .run();

            boolean cutsInsideNodes = withDecoder && (cut == FallbackCut.MIN_LOGPROB || blockTokens % SEGMENT != 0);
            driver.checkLeaves(cutsInsideNodes ? SegmentRule.AT_LEAST : SegmentRule.EXACT);
            driver.checkBoxedReasons();
            assertEquals(2, driver.firstLevelSize, "root divergence");
        }
    }

    @ParameterizedTest(name = "width {0}, {1}")
    @CsvSource({"4, RANDOM_BLOCK", "8, MIN_LOGPROB", "16, FROM_START", "8, RANDOM_BLOCK"})
    void pathsEndingAfterOneSegmentFallBackRepeatedly(int width, FallbackCut cut) {
        for (int seed = 0; seed < SEEDS; seed++) {
            TreeConfig config = config(Mode.TREE, width, 4, 1, 2, Allocation.EVEN, 0, FallbackSource.CLEAN_FIRST, cut,
                    0, 32);
            TreeDriver driver = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.EOS_IN_FIRST_SEGMENT,
                    seed, true).run();

            driver.checkLeaves(SegmentRule.AT_LEAST);
            assertTrue(driver.tree.stats().fallbacks() >= 2, "fallbacks " + driver.tree.stats().fallbacks());
            for (Leaf leaf : driver.tree.leaves()) {
                assertEquals(FinishReason.EOS, leaf.finishReason());
                assertEquals(1, leaf.nodePath().length, "a regrown single-segment path stays one node deep");
            }
        }
    }

    /** Level sizes with no early finish match the idealised call counts of the ms-swift benchmark. */
    @ParameterizedTest(name = "depth {0}, branch {1}: {2} calls")
    @CsvSource({"4, 3, 20", "5, 2, 23", "5, 3, 28", "6, 2, 31", "6, 3, 36"})
    void nothingFinishingEarlyRunsToMaxDepth(int depth, int branch, int expectedCalls) {
        TreeConfig config = config(Mode.TREE, 8, depth, 1, branch, Allocation.EVEN, 0, FallbackSource.CLEAN_FIRST,
                FallbackCut.RANDOM_BLOCK, 0, 64);
        TreeDriver driver = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.NEVER_FINISHES, 1, true)
                .run();

        driver.checkLeaves(SegmentRule.EXACT);
        TreeStats stats = driver.tree.stats();
        assertEquals(expectedCalls, stats.segments(), "inference calls");
        assertEquals(depth, stats.levels(), "levels");
        assertEquals(0, stats.fallbacks(), "fallbacks");
        for (Leaf leaf : driver.tree.leaves()) {
            assertEquals(depth, leaf.nodePath().length);
            // The default limit is segment-tokens * max-depth, reached together with the depth; the
            // length check runs first, as in the TreePO reference.
            assertEquals(FinishReason.MAX_TOKENS, leaf.finishReason());
        }
    }

    @Test
    void maxTokensCutsLastSegmentToTheLimit() {
        int limit = SEGMENT * 3 - 4;
        TreeConfig config = config(Mode.TREE, 4, 6, 2, 2, Allocation.EVEN, limit, FallbackSource.CLEAN_FIRST,
                FallbackCut.RANDOM_BLOCK, 0, 64);
        TreeDriver driver = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.NEVER_FINISHES, 5, true)
                .run();

        driver.checkLeaves(SegmentRule.EXACT);
        for (Leaf leaf : driver.tree.leaves()) {
            assertEquals(FinishReason.MAX_TOKENS, leaf.finishReason());
            assertEquals(limit, leaf.responseLength());
            assertArrayEquals(new int[] {SEGMENT, SEGMENT, SEGMENT - 4}, leaf.segmentLengths());
        }
        long shortRequests = driver.requests.values().stream().filter(r -> r.depth() == 3).count();
        assertTrue(shortRequests > 0);
        driver.requests.values().stream().filter(r -> r.depth() == 3)
                .forEach(r -> assertEquals(SEGMENT - 4, r.maxNewTokens(), "last segment request"));
    }

    @Test
    void independentModeGrowsDisjointChains() {
        for (int seed = 0; seed < SEEDS; seed++) {
            TreeConfig config = config(Mode.TREE, 8, 5, 2, 3, Allocation.LOGPROB, 0, FallbackSource.CLEAN_FIRST,
                    FallbackCut.RANDOM_BLOCK, 0, 3).independent(8);
            TreeDriver driver = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.MIXED, seed, true)
                    .run();

            driver.checkLeaves(SegmentRule.EXACT);
            assertEquals(8, driver.firstLevelSize, "INDEPENDENT starts width chains");
            Set<Integer> seen = new HashSet<>();
            for (Leaf leaf : driver.tree.leaves()) {
                for (int node : leaf.nodePath()) {
                    assertTrue(seen.add(node), "node " + node + " shared between chains");
                }
            }
            for (SegmentRequest request : driver.requests.values()) {
                assertTrue(request.parentNodeId() < 0 || request.depth() > 1, "chains never restart");
            }
            assertEquals(0, driver.tree.stats().fallbacks());
        }
    }

    @Test
    void cutsWithoutDecoderFallOnNodeBoundaries() {
        for (int seed = 0; seed < SEEDS; seed++) {
            TreeConfig config = config(Mode.TREE, 8, 5, 2, 2, Allocation.INVERSE_LOGPROB, 0, FallbackSource.ANY,
                    FallbackCut.MIN_LOGPROB, 0, 3);
            TreeDriver driver = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.MIXED, seed, false)
                    .run();

            driver.checkLeaves(SegmentRule.EXACT);
        }
    }

    @Test
    void sameSeedGivesSameTree() {
        TreeConfig config = config(Mode.TREE, 8, 5, 2, 2, Allocation.LOGPROB, 0, FallbackSource.CLEAN_FIRST,
                FallbackCut.MIN_LOGPROB, 0, 3);
        List<Leaf> first = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.MIXED, 9, true).run()
                .tree.leaves();
        List<Leaf> second = new TreeDriver(config, new BoxedAnswerScenario(config), Behaviour.MIXED, 9, true).run()
                .tree.leaves();

        assertEquals(first.size(), second.size());
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(first.get(i).nodePath(), second.get(i).nodePath());
            assertArrayEquals(first.get(i).responseTokens(), second.get(i).responseTokens());
        }
    }

    @Test
    void rejectsResultsThatDoNotMatchTheLevel() {
        TreeConfig config = config(Mode.TREE, 4, 3, 2, 2, Allocation.EVEN, 0, FallbackSource.CLEAN_FIRST,
                FallbackCut.RANDOM_BLOCK, 0, 32);
        PromptTree tree = new PromptTree(0, TreeDriver.PROMPT, config, new BoxedAnswerScenario(config),
                new SplittableRandom(1));
        assertThrows(IllegalStateException.class, () -> tree.onLevelDecoded(List.of()), "before start");

        List<SegmentRequest> level = tree.start();
        assertThrows(IllegalStateException.class, tree::start, "second start");
        int first = level.get(0).nodeId();
        int second = level.get(1).nodeId();
        SegmentResult ok = new SegmentResult(first, new int[] {20}, new float[] {-1f}, false, "g");

        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok)), "missing result");
        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok, ok)), "duplicate");
        SegmentResult unknown = new SegmentResult(99, new int[] {20}, new float[] {-1f}, false, "g");
        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok, unknown)), "unknown node");
        SegmentResult tooLong = new SegmentResult(second, new int[SEGMENT + 1], new float[SEGMENT + 1], false, "");
        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok, tooLong)), "too long");
        SegmentResult empty = new SegmentResult(second, new int[0], new float[0], false, "");
        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok, empty)), "empty");
        SegmentResult nan = new SegmentResult(second, new int[] {20}, new float[] {Float.NaN}, false, "g");
        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok, nan)), "NaN logprob");
        SegmentResult mismatched = new SegmentResult(second, new int[] {20, 21}, new float[] {-1f}, false, "gh");
        assertThrows(IllegalArgumentException.class, () -> tree.onLevelDecoded(List.of(ok, mismatched)), "logprobs");

        // A rejected level leaves the tree unchanged, so the correct results are still accepted.
        SegmentResult good = new SegmentResult(second, new int[] {21}, new float[] {-2f}, false, "h");
        assertFalse(tree.onLevelDecoded(List.of(good, ok)).isEmpty());
    }

    @Test
    void requestsCarryPromptAndParentContext() {
        TreeConfig config = config(Mode.TREE, 4, 3, 2, 2, Allocation.EVEN, 0, FallbackSource.CLEAN_FIRST,
                FallbackCut.RANDOM_BLOCK, 0, 32);
        PromptTree tree = new PromptTree(0, TreeDriver.PROMPT, config, new BoxedAnswerScenario(config),
                new SplittableRandom(1));
        List<SegmentRequest> roots = tree.start();

        assertEquals(2, roots.size());
        for (SegmentRequest root : roots) {
            assertEquals(-1, root.parentNodeId());
            assertEquals(0, root.keepTokens());
            assertArrayEquals(TreeDriver.PROMPT, root.appendTokens());
            assertEquals(1, root.depth());
        }
        List<SegmentResult> results = new ArrayList<>();
        for (SegmentRequest root : roots) {
            results.add(new SegmentResult(root.nodeId(), FakeVocabulary.encode("abcdef"), new float[SEGMENT], false,
                    "abcdef"));
        }
        List<SegmentRequest> children = tree.onLevelDecoded(results);

        assertEquals(4, children.size(), "budget min(4 - 0, 2 * 2)");
        for (SegmentRequest child : children) {
            assertEquals(TreeDriver.PROMPT.length + SEGMENT, child.keepTokens());
            assertEquals(0, child.appendTokens().length);
            assertEquals(2, child.depth());
        }
    }
}
