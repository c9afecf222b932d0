package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.FakeWorker.Behaviour;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.PromptTree.SegmentRequest;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Grows one {@link PromptTree} against a {@link FakeWorker}, checking the per-level invariants as it
 * goes, and offers the checks on the finished leaves.
 */
final class TreeDriver {

    /** Rule for the generated tokens of non-final nodes. */
    enum SegmentRule {
        /** Exactly segmentTokens: no appends and no cut inside a node. */
        EXACT,
        /** At least segmentTokens, because a node regrown after a cut inside a node also contains the kept part. */
        AT_LEAST,
        /** Exactly segmentTokens unless the node ended with EOS (a turn end), or more after a cut. */
        TURNS
    }

    static final int[] PROMPT = FakeVocabulary.encode("what is two plus two");
    private static final int MAX_LEVELS = 10_000;

    final TreeConfig config;
    final PromptTree tree;
    final FakeWorker worker;
    final Map<Integer, SegmentRequest> requests = new HashMap<>();
    final Map<Integer, Leaf> fallbackSources = new HashMap<>();
    int levels;
    int firstLevelSize;

    TreeDriver(TreeConfig config, Scenario scenario, Behaviour behaviour, long seed, boolean withDecoder) {
        this.config = config;
        this.tree = new PromptTree(3, PROMPT, config, scenario, new SplittableRandom(seed),
                withDecoder ? FakeVocabulary::decode : null);
        this.worker = new FakeWorker(behaviour, seed);
    }

    TreeDriver run() {
        List<SegmentRequest> level = tree.start();
        firstLevelSize = level.size();
        tree.checkInvariants();
        while (!level.isEmpty()) {
            levels++;
            assertTrue(levels <= MAX_LEVELS, "tree did not complete within " + MAX_LEVELS + " levels");
            checkLevel(level);
            level = tree.onLevelDecoded(worker.decode(level));
            tree.checkInvariants();
        }
        assertTrue(tree.complete(), "an empty level must mean a complete tree");
        return this;
    }

    private void checkLevel(List<SegmentRequest> level) {
        assertTrue(tree.leaves().size() + level.size() <= config.width(),
                tree.leaves().size() + " finished + " + level.size() + " in flight > width " + config.width());
        for (SegmentRequest request : level) {
            assertNull(requests.put(request.nodeId(), request), "node id " + request.nodeId() + " reused");
            assertTrue(request.maxNewTokens() >= 1, "maxNewTokens " + request.maxNewTokens());
            assertTrue(request.maxNewTokens() <= config.segmentTokens(), "maxNewTokens " + request.maxNewTokens());
            assertTrue(request.depth() >= 1, "depth " + request.depth());
            assertTrue(request.depth() <= config.maxDepth(), "depth " + request.depth());
            Leaf source = leafOfNode(request.parentNodeId());
            if (source != null) {
                fallbackSources.put(request.nodeId(), source);
                int keptResponse = request.keepTokens() - PROMPT.length;
                assertTrue(keptResponse >= 0, "a fallback keeps the whole prompt, kept " + request.keepTokens());
                assertTrue(keptResponse < source.responseLength(), "a fallback keeps a strict prefix of the source "
                        + "response, kept " + keptResponse + " of " + source.responseLength());
            }
        }
    }

    private Leaf leafOfNode(int nodeId) {
        for (Leaf leaf : tree.leaves()) {
            if (leaf.nodeId() == nodeId) {
                return leaf;
            }
        }
        return null;
    }

    /** Checks every finished leaf against the worker's contexts, the tree structure and the limits. */
    void checkLeaves(SegmentRule rule) {
        List<Leaf> leaves = tree.leaves();
        assertEquals(config.width(), leaves.size(), "leaves per prompt");
        Map<Integer, Integer> nodePosition = new HashMap<>();
        Map<Integer, int[]> nodeTokens = new HashMap<>();
        long tokensInLeaves = 0;
        for (Leaf leaf : leaves) {
            tokensInLeaves += leaf.responseLength();
            assertEquals(3, leaf.promptIndex());
            // The worker's context is what was really decoded; the leaf must record exactly it.
            assertEquals(generated(leaf, 0, leaf.responseLength()).length, leaf.generatedTokens(), "generated tokens");
            assertArrayEquals(FakeWorker.concat(PROMPT, leaf.responseTokens()), worker.context(leaf.nodeId()),
                    "leaf " + leaf.nodeId() + " response differs from its decoded context");
            assertEquals(FakeVocabulary.decode(generated(leaf, 0, leaf.responseLength())), tree.responseText(leaf),
                    "leaf " + leaf.nodeId() + " text");
            assertTrue(leaf.nodePath().length <= config.maxDepth(), "depth of leaf " + leaf.nodeId());
            assertTrue(leaf.responseLength() <= config.effectiveMaxResponseTokens(), "length of leaf " + leaf.nodeId());

            int start = 0;
            int[] path = leaf.nodePath();
            for (int k = 0; k < path.length; k++) {
                int length = leaf.segmentLengths()[k];
                int[] span = Arrays.copyOfRange(leaf.responseTokens(), start, start + length);
                Integer position = nodePosition.putIfAbsent(path[k], k);
                int[] known = nodeTokens.putIfAbsent(path[k], span);
                if (position != null) {
                    assertEquals(position, k, "node " + path[k] + " at two depths");
                    assertArrayEquals(known, span, "node " + path[k] + " holds different tokens on two leaves");
                }
                if (k < path.length - 1) {
                    checkNonFinalNode(leaf, start, length, rule);
                }
                Leaf source = fallbackSources.get(path[k]);
                if (source != null) {
                    assertTrue(k < source.nodePath().length, "fallback node path must share a strict prefix");
                    assertArrayEquals(Arrays.copyOf(source.nodePath(), k), Arrays.copyOf(path, k),
                            "fallback node " + path[k] + " must extend a prefix of its source's path");
                    int sharedTokens = Arrays.stream(source.segmentLengths(), 0, k).sum();
                    int kept = requests.get(path[k]).keepTokens() - PROMPT.length;
                    assertTrue(kept >= sharedTokens, "fallback kept " + kept + " < shared " + sharedTokens);
                }
                start += length;
            }
        }
        TreeStats stats = tree.stats();
        assertEquals(requests.size(), stats.segments(), "segments = inference calls");
        assertEquals(levels, stats.levels(), "levels");
        assertEquals(tokensInLeaves, stats.tokensInLeaves(), "tokens in leaves");
    }

    private void checkNonFinalNode(Leaf leaf, int start, int length, SegmentRule rule) {
        int generatedCount = generated(leaf, start, start + length).length;
        int segment = config.segmentTokens();
        boolean endsWithEos = leaf.responseTokens()[start + length - 1] == FakeVocabulary.EOS;
        String where = "non-final node at " + start + " of leaf " + leaf.nodeId() + " has " + generatedCount
                + " generated tokens";
        switch (rule) {
            case EXACT -> assertEquals(segment, generatedCount, where);
            case AT_LEAST -> assertTrue(generatedCount >= segment, where);
            case TURNS -> assertTrue(generatedCount >= segment || endsWithEos, where);
        }
    }

    /** Checks that each BoxedAnswerScenario finish reason matches the leaf. */
    void checkBoxedReasons() {
        int limit = config.effectiveMaxResponseTokens();
        for (Leaf leaf : tree.leaves()) {
            String text = tree.responseText(leaf);
            int[] tokens = leaf.responseTokens();
            boolean lastIsEos = tokens[tokens.length - 1] == FakeVocabulary.EOS;
            int lastStart = leaf.responseLength() - leaf.segmentLengths()[leaf.segmentLengths().length - 1];
            String lastNodeText = FakeVocabulary.decode(generated(leaf, lastStart, leaf.responseLength()));
            String where = "leaf " + leaf.nodeId() + " " + leaf.finishReason() + " text '" + text + "'";
            switch (leaf.finishReason()) {
                case BOXED_ANSWER -> assertTrue(BoxedAnswerScenario.lastBoxedAnswer(text).isPresent(), where);
                case UNCLOSED_ANSWER -> assertTrue(lastIsEos && text.contains("\\boxed{"), where);
                case EOS -> assertTrue(lastIsEos && !text.contains("\\boxed{"), where);
                case MAX_TOKENS -> assertEquals(limit, leaf.responseLength(), where);
                case MAX_DEPTH -> assertEquals(config.maxDepth(), leaf.nodePath().length, where);
                case REPETITION -> assertTrue(BoxedAnswerScenario.hasRepetition(lastNodeText,
                        config.repetitionWindowChars(), config.repetitionMinCount()), where);
                case UNFINISHED -> throw new AssertionError("the boxed scenario never returns UNFINISHED: " + where);
            }
        }
    }

    /** Returns the generated tokens (loss mask 1) of a leaf in response positions [from, to). */
    static int[] generated(Leaf leaf, int from, int to) {
        return java.util.stream.IntStream.range(from, to)
                .filter(i -> leaf.lossMask()[i] != 0)
                .map(i -> leaf.responseTokens()[i])
                .toArray();
    }
}
