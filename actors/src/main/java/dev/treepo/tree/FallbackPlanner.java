package dev.treepo.tree;

import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeConfig.FallbackCut;
import dev.treepo.tree.TreeConfig.FallbackSource;
import dev.treepo.tree.TreeConfig.Mode;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Chooses which finished paths to regrow, and where to cut them, when a prompt has no active path
 * but fewer than N leaves (TreePO "fallback").
 *
 * <p>Sources: CLEAN_FIRST takes the BOXED_ANSWER and EOS finishes in random order, then the others
 * in random order; ANY takes all in random order. A fresh root from the prompt is used when there
 * is no finished path. Each source gets up to {@code branchFactor} copies, all regrown from the same cut, until
 * {@code slots} paths are planned. Sources can run out first; the prompt then falls back again once
 * the regrown paths have finished. FROM_START plans one source only, as every cut is the same, and
 * INDEPENDENT mode regrows all slots from the prompt at once because its chains never branch.
 *
 * <p>Cuts (tokens kept of the source response):
 *
 * <ul>
 *   <li>RANDOM_BLOCK: with block size b and B = ceil(len / b) blocks aligned to the response start
 *       (the last may be partial), drop d blocks with d uniform in [1, B], keeping (B - d) * b
 *       tokens. The draw is valid for every length of 1 or more; the TreePO reference crashed for a
 *       configured window of -1.
 *   <li>MIN_LOGPROB: keep everything before the generated token with the lowest logprob (the first
 *       one on ties), so that token is regenerated.
 *   <li>FROM_START: keep nothing.
 * </ul>
 *
 * <p>Every cut is then clamped so the regrown path can decode at least one more segment: at least
 * one token is dropped, fewer than the max response tokens are kept, and at most maxDepth - 1 whole
 * nodes are kept. Last, a cut that would end inside or right after appended tokens (loss mask 0)
 * moves back to the start of that run, so generation always resumes after a generated token or at
 * the prompt and the scenario is asked again for what to append.
 */
public final class FallbackPlanner {

    /**
     * Copies to regrow from one source.
     *
     * @param sourceIndex index into the finished list, or -1 for a fresh root from the prompt
     * @param keptTokens response tokens of the source kept before regrowing; 0 for a fresh root
     * @param copies paths regrown from this cut, at least 1
     */
    public record Regrowth(int sourceIndex, int keptTokens, int copies) {
    }

    private FallbackPlanner() {
    }

    /**
     * Plans regrowth of up to {@code slots} paths from {@code finished}.
     *
     * @param finished the prompt's finished paths, in finishing order
     * @param slots paths to make active: width minus finished, at least 1
     * @param config the tree settings (source policy, cut policy, limits, branch factor)
     * @param rng the only source of randomness, so a seeded generator makes plans reproducible
     * @return regrowths whose copies sum to at most {@code slots}; never empty
     */
    public static List<Regrowth> plan(List<Leaf> finished, int slots, TreeConfig config, RandomGenerator rng) {
        if (slots < 1) {
            throw new IllegalArgumentException(
                    "Fallback needs at least 1 free slot, got " + slots + "; the prompt already has all its leaves.");
        }
        boolean independent = config.mode() == Mode.INDEPENDENT;
        boolean fromStart = independent || config.fallbackCut() == FallbackCut.FROM_START;
        List<Regrowth> plans = new ArrayList<>();
        List<Integer> order = sourceOrder(finished, config.fallbackSource(), rng);
        if (order.isEmpty()) {
            plans.add(new Regrowth(-1, 0, independent ? slots : Math.min(config.branchFactor(), slots)));
            return plans;
        }
        int remaining = slots;
        for (int index : order) {
            int copies = independent ? remaining : Math.min(config.branchFactor(), remaining);
            int kept = fromStart ? 0 : cutPoint(finished.get(index), config, rng);
            plans.add(new Regrowth(index, kept, copies));
            remaining -= copies;
            if (remaining == 0 || fromStart) {
                break;
            }
        }
        return plans;
    }

    /** Returns the response tokens of {@code source} to keep under the configured cut policy, clamped and snapped. */
    static int cutPoint(Leaf source, TreeConfig config, RandomGenerator rng) {
        int length = source.responseLength();
        if (length == 0) {
            return 0;
        }
        int kept = switch (config.fallbackCut()) {
            case RANDOM_BLOCK -> randomBlockCut(length, config.effectiveFallbackBlockTokens(), rng);
            case MIN_LOGPROB -> minLogprobCut(source);
            case FROM_START -> 0;
        };
        kept = clampToLimits(source, kept, config);
        return snapBeforeAppended(source.lossMask(), kept);
    }

    private static int randomBlockCut(int length, int blockTokens, RandomGenerator rng) {
        int blocks = (length + blockTokens - 1) / blockTokens;
        int dropped = 1 + rng.nextInt(blocks);
        return (blocks - dropped) * blockTokens;
    }

    private static int minLogprobCut(Leaf source) {
        float[] logprobs = source.logprobs();
        float[] lossMask = source.lossMask();
        int lowest = -1;
        for (int i = 0; i < logprobs.length; i++) {
            if (lossMask[i] != 0 && (lowest < 0 || logprobs[i] < logprobs[lowest])) {
                lowest = i;
            }
        }
        return Math.max(lowest, 0);
    }

    /** Keeps at most len - 1 tokens, fewer than the max response tokens, and at most maxDepth - 1 whole nodes. */
    private static int clampToLimits(Leaf source, int kept, TreeConfig config) {
        int clamped = Math.min(kept, source.responseLength() - 1);
        clamped = Math.min(clamped, config.effectiveMaxResponseTokens() - 1);
        int[] segmentLengths = source.segmentLengths();
        int nodeEnd = 0;
        for (int node = 0; node < segmentLengths.length; node++) {
            nodeEnd += segmentLengths[node];
            if (nodeEnd > clamped) {
                break;
            }
            if (node + 1 >= config.maxDepth()) {
                // Keeping node + 1 whole nodes would leave no depth for the regrown segment.
                return nodeEnd - segmentLengths[node];
            }
        }
        return Math.max(clamped, 0);
    }

    /** Moves a cut that ends in or right after appended tokens back to the start of that run. */
    static int snapBeforeAppended(float[] lossMask, int kept) {
        int snapped = kept;
        while (snapped > 0 && lossMask[snapped - 1] == 0) {
            snapped--;
        }
        return snapped;
    }

    private static List<Integer> sourceOrder(List<Leaf> finished, FallbackSource policy, RandomGenerator rng) {
        List<Integer> preferred = new ArrayList<>();
        List<Integer> others = new ArrayList<>();
        for (int i = 0; i < finished.size(); i++) {
            boolean clean = finished.get(i).finishReason().clean();
            (policy == FallbackSource.CLEAN_FIRST && !clean ? others : preferred).add(i);
        }
        shuffle(preferred, rng);
        shuffle(others, rng);
        preferred.addAll(others);
        return preferred;
    }

    /** Fisher-Yates shuffle; java.util.Collections.shuffle accepts only java.util.Random in Java 17. */
    private static void shuffle(List<Integer> list, RandomGenerator rng) {
        for (int i = list.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            Integer swap = list.get(i);
            list.set(i, list.get(j));
            list.set(j, swap);
        }
    }
}
