package dev.treepo.tree;

import dev.treepo.tree.TreeConfig.Allocation;
import java.util.Arrays;

/**
 * Splits one prompt's branching budget (see {@link BranchBudget}) among its active paths. Every
 * path receives at least one child and the counts always sum to the budget.
 *
 * <p>Scores are per path: the sum of the sampled-token logprobs of its response so far, so a lower
 * score means a less likely path. LOGPROB favours those (explore where the model is unsure);
 * INVERSE_LOGPROB favours the likely ones.
 */
public final class BranchAllocation {

    private BranchAllocation() {
    }

    /**
     * Returns the number of children of each active path.
     *
     * <ul>
     *   <li>EVEN: floor(total / A) each, and the remainder one each to the first paths. The TreePO
     *       reference gives the whole remainder to the last path, which biases the tree toward list
     *       order. Spreading it keeps all counts within one of each other.
     *   <li>LOGPROB and INVERSE_LOGPROB: weights w = softmax(-(c - min c) / T) or
     *       softmax(+(c - min c) / T); every path gets 1, the other total - A children are split by
     *       floor(w * (total - A)), and the units left over go to the largest fractional parts
     *       (ties to the earlier path).
     * </ul>
     *
     * @param total the budget; at least {@code scores.length}
     * @param scores per active path, the sum of its sampled-token logprobs; finite
     * @param policy the allocation policy
     * @param temperature T of the logprob policies; finite and above 0
     */
    public static int[] allocate(int total, float[] scores, Allocation policy, double temperature) {
        int paths = scores.length;
        if (paths == 0) {
            throw new IllegalArgumentException("Cannot allocate a budget of " + total
                    + " among 0 active paths; call allocate only when some path continues.");
        }
        if (total < paths) {
            throw new IllegalArgumentException("Branch budget " + total + " is below the " + paths
                    + " active paths; every active path needs at least one child.");
        }
        return switch (policy) {
            case EVEN -> even(total, paths);
            case LOGPROB -> weighted(total, softmaxOfShifted(scores, -1, temperature));
            case INVERSE_LOGPROB -> weighted(total, softmaxOfShifted(scores, +1, temperature));
        };
    }

    private static int[] even(int total, int paths) {
        int[] counts = new int[paths];
        int base = total / paths;
        int remainder = total % paths;
        for (int i = 0; i < paths; i++) {
            counts[i] = base + (i < remainder ? 1 : 0);
        }
        return counts;
    }

    /** Returns softmax(sign * (c - min c) / T), computed in double with the max subtracted. */
    private static double[] softmaxOfShifted(float[] scores, int sign, double temperature) {
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("Invalid rollout.allocation-temperature = "
                    + temperature + ": must be a finite number above 0.");
        }
        double min = Double.POSITIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            if (!Float.isFinite(scores[i])) {
                throw new IllegalArgumentException("Path score " + i + " is " + scores[i]
                        + "; logprobs from the worker must be finite.");
            }
            min = Math.min(min, scores[i]);
        }
        double[] z = new double[scores.length];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            z[i] = sign * (scores[i] - min) / temperature;
            max = Math.max(max, z[i]);
        }
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            z[i] = Math.exp(z[i] - max);
            sum += z[i];
        }
        for (int i = 0; i < z.length; i++) {
            z[i] /= sum;
        }
        return z;
    }

    /** Gives every path 1 and splits the rest by weight with largest remainders. */
    private static int[] weighted(int total, double[] weights) {
        int paths = weights.length;
        int rest = total - paths;
        int[] counts = new int[paths];
        double[] fraction = new double[paths];
        int assigned = 0;
        for (int i = 0; i < paths; i++) {
            double share = weights[i] * rest;
            int whole = (int) Math.floor(share);
            counts[i] = 1 + whole;
            fraction[i] = share - whole;
            assigned += whole;
        }
        // Each floor loses less than one unit, so between 0 and `paths` units are left over.
        int leftover = rest - assigned;
        Integer[] order = new Integer[paths];
        for (int i = 0; i < paths; i++) {
            order[i] = i;
        }
        // Stable sort: equal fractions keep path order, so ties go to the earlier path.
        Arrays.sort(order, (a, b) -> Double.compare(fraction[b], fraction[a]));
        for (int k = 0; k < leftover; k++) {
            counts[order[k]]++;
        }
        return counts;
    }
}
