package dev.treepo.tree;

/**
 * Reason a path stopped growing. The priority ranks finishes by quality, highest first, in the order
 * of the TreePO reference rollout; {@link #clean()} marks the finishes a fallback prefers to regrow.
 */
public enum FinishReason {
    /** A complete {@code \boxed{...}} answer appeared in the response text. */
    BOXED_ANSWER(7),
    /** The model emitted EOS while a {@code \boxed{} was still open. */
    UNCLOSED_ANSWER(6),
    /** The model emitted EOS without a boxed answer. */
    EOS(5),
    /** The path reached the max depth (segments per path). */
    MAX_DEPTH(4),
    /** The response reached the max response tokens. */
    MAX_TOKENS(3),
    /** One segment's text repeated a substring too often. */
    REPETITION(2),
    /** No rule applied; the tree never assigns it, but a scenario may. */
    UNFINISHED(1);

    private final int priority;

    FinishReason(int priority) {
        this.priority = priority;
    }

    /** Returns the quality rank, 7 (best) to 1. */
    public int priority() {
        return priority;
    }

    /** Returns true for BOXED_ANSWER and EOS, the finishes that ended on the model's own terms. */
    public boolean clean() {
        return this == BOXED_ANSWER || this == EOS;
    }
}
