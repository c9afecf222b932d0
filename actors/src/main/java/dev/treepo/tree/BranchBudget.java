package dev.treepo.tree;

/**
 * The number of child requests one prompt may issue at the next level (TreePO "by fixed
 * divergence"). A path that finished at this level hands its g slots to the paths that go on, the
 * total never lets finished plus in-flight paths exceed the width, and every active path continues
 * at least once.
 */
public final class BranchBudget {

    private BranchBudget() {
    }

    /**
     * Returns {@code max(min(max(width - finished, 0), g * (active + justFinished)), active)}.
     *
     * @param width N, the leaves the prompt must end with
     * @param finished all finished paths of the prompt, including those that finished at this level
     * @param active paths that continue to the next level
     * @param justFinished paths that finished at this level (already counted in {@code finished})
     * @param branchFactor g, at least 1
     */
    public static int total(int width, int finished, int active, int justFinished, int branchFactor) {
        if (width < 1 || finished < 0 || active < 0 || justFinished < 0 || justFinished > finished) {
            throw new IllegalArgumentException("Invalid branch budget input: width " + width
                    + ", finished " + finished + ", active " + active + ", justFinished " + justFinished
                    + "; counts must be non-negative, width at least 1, justFinished at most finished.");
        }
        if (branchFactor < 1) {
            throw new IllegalArgumentException(
                    "Invalid rollout.branch-factor = " + branchFactor + ": must be at least 1.");
        }
        int remaining = Math.max(width - finished, 0);
        long transferred = (long) branchFactor * (active + justFinished);
        int capped = (int) Math.min(remaining, transferred);
        return Math.max(capped, active);
    }
}
