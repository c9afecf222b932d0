package dev.treepo.tree;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Settings of one prompt's rollout tree, one field per key of the {@code rollout} configuration
 * block. The compact constructor rejects every out-of-range value with a message that names the
 * configuration key, so a bad setting fails at start-up and not in the middle of a rollout.
 *
 * @param mode TREE grows a TreePO tree; INDEPENDENT grows {@code width} chains through the same
 *     machinery (every path gets exactly one child, fallback restarts from the prompt)
 * @param width N, the number of leaves every prompt ends with
 * @param segmentTokens max new tokens one node decodes
 * @param maxDepth max segments on one path
 * @param rootDivergence copies of the prompt decoded at the first level (TREE mode only)
 * @param branchFactor g in {@code min(N - finished, g * (active + justFinished))}, and the max
 *     copies one fallback source receives
 * @param allocation how the level's branching budget is split among active paths
 * @param allocationTemperature softmax temperature of the LOGPROB and INVERSE_LOGPROB allocations
 * @param maxResponseTokens max response tokens of one path, counting generated and appended
 *     tokens; 0 means {@code segmentTokens * maxDepth}
 * @param fallbackSource which finished paths a fallback regrows first
 * @param fallbackCut where a fallback cuts its source path
 * @param fallbackBlockTokens block size of RANDOM_BLOCK cuts; 0 means {@code segmentTokens}
 * @param repetitionWindowChars length of the substring the repetition stop looks for
 * @param repetitionMinCount occurrences within one segment's text that count as repetition
 */
public record TreeConfig(
        Mode mode,
        int width,
        int segmentTokens,
        int maxDepth,
        int rootDivergence,
        int branchFactor,
        Allocation allocation,
        double allocationTemperature,
        int maxResponseTokens,
        FallbackSource fallbackSource,
        FallbackCut fallbackCut,
        int fallbackBlockTokens,
        int repetitionWindowChars,
        int repetitionMinCount) {

    /** Shape of the rollout; configuration values {@code tree} and {@code independent}. */
    public enum Mode {
        TREE,
        INDEPENDENT
    }

    /** Split of a level's branching budget among the active paths of one prompt. */
    public enum Allocation {
        /** floor(total / A) each; the remainder goes one each to the first paths. */
        EVEN,
        /** Weights softmax(-(c - min c) / T): the least likely paths branch most. */
        LOGPROB,
        /** Weights softmax(+(c - min c) / T): the most likely paths branch most. */
        INVERSE_LOGPROB
    }

    /** Order in which finished paths are used as fallback sources. */
    public enum FallbackSource {
        /** BOXED_ANSWER and EOS finishes first (shuffled), then the others (shuffled). */
        CLEAN_FIRST,
        /** All finished paths, shuffled. */
        ANY
    }

    /** Position at which a fallback source path is cut before it is regrown. */
    public enum FallbackCut {
        /** Drop 1..B trailing blocks of {@code fallbackBlockTokens}, uniformly. */
        RANDOM_BLOCK,
        /** Cut at the generated token with the lowest logprob, so that token is regenerated. */
        MIN_LOGPROB,
        /** Drop the whole response and regrow from the prompt. */
        FROM_START
    }

    public TreeConfig {
        require(mode != null, "rollout.mode", null, "set it to tree or independent");
        require(width >= 1, "rollout.width", width, "must be at least 1");
        require(segmentTokens >= 1, "rollout.segment-tokens", segmentTokens, "must be at least 1");
        require(maxDepth >= 1, "rollout.max-depth", maxDepth, "must be at least 1");
        require((long) segmentTokens * maxDepth <= Integer.MAX_VALUE, "rollout.max-depth", maxDepth,
                "rollout.segment-tokens * rollout.max-depth must fit in an int; lower one of them");
        require(rootDivergence >= 1 && rootDivergence <= width, "rollout.root-divergence",
                rootDivergence, "must be between 1 and rollout.width (" + width + ")");
        require(branchFactor >= 1, "rollout.branch-factor", branchFactor, "must be at least 1");
        require(allocation != null, "rollout.allocation", null,
                "set it to even, logprob or inverse-logprob");
        require(allocationTemperature > 0 && Double.isFinite(allocationTemperature),
                "rollout.allocation-temperature", allocationTemperature,
                "must be a finite number above 0");
        require(maxResponseTokens >= 0, "rollout.max-response-tokens", maxResponseTokens,
                "must be 0 (segment-tokens * max-depth) or a positive token count");
        require(fallbackSource != null, "rollout.fallback.source", null,
                "set it to clean-first or any");
        require(fallbackCut != null, "rollout.fallback.cut", null,
                "set it to random-block, min-logprob or from-start");
        require(fallbackBlockTokens >= 0, "rollout.fallback.block-tokens", fallbackBlockTokens,
                "must be 0 (segment-tokens) or a positive token count");
        require(repetitionWindowChars >= 1, "rollout.repetition.window-chars",
                repetitionWindowChars, "must be at least 1");
        // One occurrence is not a repetition; a count of 1 would stop every path at once.
        require(repetitionMinCount >= 2, "rollout.repetition.min-count", repetitionMinCount,
                "must be at least 2");
    }

    /** Returns the response token limit of one path: maxResponseTokens, or its default when 0. */
    public int effectiveMaxResponseTokens() {
        return maxResponseTokens > 0 ? maxResponseTokens : segmentTokens * maxDepth;
    }

    /** Returns the RANDOM_BLOCK block size: fallbackBlockTokens, or segmentTokens when 0. */
    public int effectiveFallbackBlockTokens() {
        return fallbackBlockTokens > 0 ? fallbackBlockTokens : segmentTokens;
    }

    /** Returns the number of paths decoded at the first level: rootDivergence, or width in INDEPENDENT mode. */
    public int initialPaths() {
        return mode == Mode.INDEPENDENT ? width : rootDivergence;
    }

    /**
     * Returns a copy in INDEPENDENT mode with {@code chains} leaves per prompt and all other settings
     * kept, for evaluation with N samples per problem. The root divergence is set to {@code chains}
     * because INDEPENDENT mode starts that many chains anyway.
     */
    public TreeConfig independent(int chains) {
        return new TreeConfig(Mode.INDEPENDENT, chains, segmentTokens, maxDepth, chains, branchFactor, allocation,
                allocationTemperature, maxResponseTokens, fallbackSource, fallbackCut, fallbackBlockTokens,
                repetitionWindowChars, repetitionMinCount);
    }

    /**
     * Parses a configuration value such as {@code inverse-logprob} into the enum constant
     * {@code INVERSE_LOGPROB} of {@code type}. Case and the use of '-' or '_' do not matter.
     *
     * @throws IllegalArgumentException naming {@code key} and the accepted values
     */
    public static <E extends Enum<E>> E parseOption(Class<E> type, String key, String value) {
        String normalized = value == null ? "" : value.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(normalized)) {
                return constant;
            }
        }
        String accepted = Arrays.stream(type.getEnumConstants())
                .map(c -> c.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .collect(Collectors.joining(", "));
        throw new IllegalArgumentException(
                "Invalid " + key + " = \"" + value + "\": expected one of " + accepted + ".");
    }

    private static void require(boolean valid, String key, Object value, String rule) {
        if (valid) {
            return;
        }
        String message = value == null
                ? "Missing " + key + ": " + rule + "."
                : "Invalid " + key + " = " + value + ": " + rule + ".";
        throw new IllegalArgumentException(message);
    }
}
