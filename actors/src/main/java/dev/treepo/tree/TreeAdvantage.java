package dev.treepo.tree;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Advantages of scored leaves: the TreePO tree advantage and the GRPO baseline, plus the filter that
 * drops prompts whose leaves all scored the same. One scalar per leaf; the trainer broadcasts it to
 * the leaf's generated tokens.
 */
public final class TreeAdvantage {

    // Added to the token-weighted variance before the square root, as in the TreePO trainer.
    private static final double WHITEN_EPSILON = 1e-8;
    // Added to the group standard deviation of GRPO, as in the GRPO trainers.
    private static final double GRPO_EPSILON = 1e-4;

    /**
     * One leaf to score.
     *
     * @param groupId the prompt the leaf belongs to
     * @param nodePath node ids from the root to the leaf; leaves sharing the first d ids share the
     *     first d segments
     * @param reward the scalar outcome reward
     * @param tokens the leaf's trained (generated) tokens, the weight in batch whitening; at least 1
     */
    public record Scored(int groupId, int[] nodePath, double reward, int tokens) {
    }

    private TreeAdvantage() {
    }

    /**
     * Returns the TreePO advantages: {@link #subgroupAdvantages} whitened once over the whole list
     * with {@link #whiten}, weighted by tokens.
     */
    public static double[] treepo(List<Scored> leaves) {
        int[] tokens = new int[leaves.size()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = leaves.get(i).tokens();
        }
        return whiten(subgroupAdvantages(leaves), tokens);
    }

    /**
     * Returns the TreePO advantages before whitening. For each level d from 0 to (longest path - 1),
     * the level-d group of a leaf is the leaves of its prompt that share its first d nodes (d = 0 is
     * the whole prompt group). A level enters when d = 0, even for a single-leaf prompt where the
     * deviation is the reward itself, or when the group has more than one leaf; the leaf's advantage
     * is the average of R - mean(group) over the levels that entered.
     */
    public static double[] subgroupAdvantages(List<Scored> leaves) {
        validate(leaves);
        int count = leaves.size();
        double[] deviationSum = new double[count];
        int[] levelsEntered = new int[count];
        int longest = 0;
        for (Scored leaf : leaves) {
            longest = Math.max(longest, leaf.nodePath().length);
        }
        for (int depth = 0; depth < Math.max(longest, 1); depth++) {
            Map<List<Integer>, List<Integer>> groups = new HashMap<>();
            for (int i = 0; i < count; i++) {
                Scored leaf = leaves.get(i);
                if (leaf.nodePath().length < depth) {
                    continue;
                }
                groups.computeIfAbsent(groupKey(leaf, depth), key -> new ArrayList<>()).add(i);
            }
            for (List<Integer> members : groups.values()) {
                if (depth > 0 && members.size() < 2) {
                    continue;
                }
                double mean = 0;
                for (int i : members) {
                    mean += leaves.get(i).reward();
                }
                // Level 0 of a single-leaf prompt has no baseline: its deviation is R itself.
                mean = members.size() > 1 ? mean / members.size() : 0;
                for (int i : members) {
                    deviationSum[i] += leaves.get(i).reward() - mean;
                    levelsEntered[i]++;
                }
            }
        }
        double[] advantages = new double[count];
        for (int i = 0; i < count; i++) {
            advantages[i] = deviationSum[i] / levelsEntered[i];
        }
        return advantages;
    }

    /**
     * Returns {@code (A - m) / sqrt(v + 1e-8)} with m the token-weighted mean of A and v the
     * token-weighted unbiased variance {@code sum(t * (A - m)^2) / (sum(t) - 1)}, as if every
     * trained token carried its leaf's advantage. With a single token in total the variance is 0.
     */
    public static double[] whiten(double[] advantages, int[] tokens) {
        if (advantages.length != tokens.length) {
            throw new IllegalArgumentException("Whitening got " + advantages.length + " advantages but "
                    + tokens.length + " token counts; pass one count per leaf.");
        }
        long totalTokens = 0;
        double weightedSum = 0;
        for (int i = 0; i < advantages.length; i++) {
            if (tokens[i] < 1) {
                throw new IllegalArgumentException("Leaf " + i + " has " + tokens[i]
                        + " trained tokens; every leaf needs at least 1.");
            }
            totalTokens += tokens[i];
            weightedSum += tokens[i] * advantages[i];
        }

        double[] whitened = new double[advantages.length];
        if (totalTokens == 0) {
            return whitened;
        }
        double mean = weightedSum / totalTokens;
        double squares = 0;
        for (int i = 0; i < advantages.length; i++) {
            double centered = advantages[i] - mean;
            squares += tokens[i] * centered * centered;
        }
        double variance = totalTokens > 1 ? squares / (totalTokens - 1) : 0;

        double scale = Math.sqrt(variance + WHITEN_EPSILON);
        for (int i = 0; i < advantages.length; i++) {
            whitened[i] = (advantages[i] - mean) / scale;
        }
        return whitened;
    }

    /**
     * Returns the GRPO advantages {@code (R - mean) / (std + 1e-4)} per prompt group, with the
     * unbiased standard deviation. A single-leaf group uses mean 0 and std 1, as verl does, because
     * one sample has no spread.
     */
    public static double[] grpo(List<Scored> leaves) {
        validate(leaves);
        Map<Integer, List<Integer>> groups = byGroup(leaves);
        double[] advantages = new double[leaves.size()];
        for (List<Integer> members : groups.values()) {
            double mean = 0;
            double std = 1;
            if (members.size() > 1) {
                for (int i : members) {
                    mean += leaves.get(i).reward();
                }
                mean /= members.size();
                double squares = 0;
                for (int i : members) {
                    double centered = leaves.get(i).reward() - mean;
                    squares += centered * centered;
                }
                std = Math.sqrt(squares / (members.size() - 1));
            }
            for (int i : members) {
                advantages[i] = (leaves.get(i).reward() - mean) / (std + GRPO_EPSILON);
            }
        }
        return advantages;
    }

    /**
     * Returns the indices, in input order, of the leaves whose prompt group does not have one reward
     * for all its leaves (DAPO dynamic sampling). Single-leaf groups are kept, since their spread is
     * unknown rather than zero.
     */
    public static List<Integer> nonUniformIndices(List<Scored> leaves) {
        validate(leaves);
        Map<Integer, List<Integer>> groups = byGroup(leaves);
        boolean[] keep = new boolean[leaves.size()];
        for (List<Integer> members : groups.values()) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int i : members) {
                min = Math.min(min, leaves.get(i).reward());
                max = Math.max(max, leaves.get(i).reward());
            }
            boolean uniform = members.size() > 1 && min == max;
            for (int i : members) {
                keep[i] = !uniform;
            }
        }
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < keep.length; i++) {
            if (keep[i]) {
                kept.add(i);
            }
        }
        return kept;
    }

    private static List<Integer> groupKey(Scored leaf, int depth) {
        List<Integer> key = new ArrayList<>(depth + 1);
        key.add(leaf.groupId());
        for (int d = 0; d < depth; d++) {
            key.add(leaf.nodePath()[d]);
        }
        return key;
    }

    private static Map<Integer, List<Integer>> byGroup(List<Scored> leaves) {
        Map<Integer, List<Integer>> groups = new HashMap<>();
        for (int i = 0; i < leaves.size(); i++) {
            groups.computeIfAbsent(leaves.get(i).groupId(), key -> new ArrayList<>()).add(i);
        }
        return groups;
    }

    private static void validate(List<Scored> leaves) {
        for (int i = 0; i < leaves.size(); i++) {
            Scored leaf = leaves.get(i);
            if (leaf.nodePath() == null) {
                throw new IllegalArgumentException("Scored leaf " + i + " has no node path.");
            }
            if (!Double.isFinite(leaf.reward())) {
                throw new IllegalArgumentException("Scored leaf " + i + " has reward " + leaf.reward()
                        + "; rewards must be finite.");
            }
        }
    }
}
