package dev.treepo.trainer;

import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.rollout.TreeRoot.TreeFinished;
import dev.treepo.task.Problem;
import dev.treepo.task.RewardFunction;
import dev.treepo.tree.PromptTree.Leaf;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Held-out accuracy of one policy: greedy pass@1 and the mean accuracy over N sampled answers per
 * problem, each with its standard error over problems. The accuracies and standard errors are
 * computed from the per-problem scores, which also serve the paired comparison of two policies.
 *
 * @param samples          samples per problem
 * @param levels           the same two accuracies per difficulty level, in ascending level order
 * @param greedyByProblem  1 or 0 per problem, in evaluation order
 * @param sampledByProblem the fraction of correct samples per problem, in evaluation order
 */
public record EvalResult(int samples, List<LevelAccuracy> levels, double[] greedyByProblem, double[] sampledByProblem) {

    public EvalResult {
        if (greedyByProblem.length != sampledByProblem.length) {
            throw new IllegalArgumentException("Invalid evaluation: " + greedyByProblem.length + " greedy scores but "
                    + sampledByProblem.length + " sampled scores; pass one of each per problem.");
        }
        levels = List.copyOf(levels);
        greedyByProblem = greedyByProblem.clone();
        sampledByProblem = sampledByProblem.clone();
    }

    @Override
    public double[] greedyByProblem() {
        return greedyByProblem.clone();
    }

    @Override
    public double[] sampledByProblem() {
        return sampledByProblem.clone();
    }

    /** Returns the number of problems evaluated. */
    public int problems() {
        return greedyByProblem.length;
    }

    /** Returns the fraction of problems solved by greedy decoding. */
    public double greedyAccuracy() {
        return mean(greedyByProblem);
    }

    /** Returns the standard error of {@link #greedyAccuracy}: sqrt(p (1 - p) / (problems - 1)). */
    public double greedyStdErr() {
        return stdErr(greedyByProblem);
    }

    /** Returns the mean over problems of the fraction of correct samples. */
    public double sampledAccuracy() {
        return mean(sampledByProblem);
    }

    /** Returns the standard deviation over problems of that fraction, divided by sqrt(problems). */
    public double sampledStdErr() {
        return stdErr(sampledByProblem);
    }

    /**
     * Scores a greedy rollout (one leaf per problem) and a sampled one (N leaves per problem).
     * Tree i of either rollout answers {@code problems.get(i)}.
     */
    public static EvalResult score(
            List<TreeFinished> greedy,
            List<TreeFinished> sampled,
            List<Problem> problems,
            Tokenizer tokenizer,
            RewardFunction reward) {
        double[] greedyScores = perProblemAccuracy(greedy, problems, tokenizer, reward);
        double[] sampledScores = perProblemAccuracy(sampled, problems, tokenizer, reward);
        int samples = sampled.isEmpty() ? 0 : sampled.get(0).leaves().size();
        return new EvalResult(samples, perLevel(problems, greedyScores, sampledScores), greedyScores, sampledScores);
    }

    /** Returns how many standard errors of the difference separate {@code after} from this result. */
    public double sampledImprovementInStdErrs(EvalResult after) {
        return unpairedStdErrs(sampledByProblem, after.sampledByProblem);
    }

    /** Same as {@link #sampledImprovementInStdErrs} for greedy pass@1. */
    public double greedyImprovementInStdErrs(EvalResult after) {
        return unpairedStdErrs(greedyByProblem, after.greedyByProblem);
    }

    /**
     * Returns the mean per-problem change from this result to {@code after} divided by its standard
     * error: the paired test, for two evaluations of the same problems in the same order. Its
     * standard error is smaller than the unpaired one when the problems that one policy solves tend
     * to be the ones the other solves.
     *
     * @throws IllegalArgumentException when the two results cover different numbers of problems
     */
    public double sampledPairedImprovementInStdErrs(EvalResult after) {
        return pairedStdErrs(sampledByProblem, after.sampledByProblem);
    }

    /** Same as {@link #sampledPairedImprovementInStdErrs} for greedy pass@1. */
    public double greedyPairedImprovementInStdErrs(EvalResult after) {
        return pairedStdErrs(greedyByProblem, after.greedyByProblem);
    }

    private static double unpairedStdErrs(double[] before, double[] after) {
        double beforeError = stdErr(before);
        double afterError = stdErr(after);
        double se = Math.sqrt(beforeError * beforeError + afterError * afterError);
        return se == 0 ? 0 : (mean(after) - mean(before)) / se;
    }

    private static double pairedStdErrs(double[] before, double[] after) {
        if (before.length != after.length) {
            throw new IllegalArgumentException("Invalid paired comparison of " + before.length + " and " + after.length
                    + " problems: evaluate both policies on the same problems (same task and eval settings).");
        }
        double[] changes = new double[before.length];
        for (int i = 0; i < changes.length; i++) {
            changes[i] = after[i] - before[i];
        }
        double se = stdErr(changes);
        return se == 0 ? 0 : mean(changes) / se;
    }

    private static double[] perProblemAccuracy(
            List<TreeFinished> trees, List<Problem> problems, Tokenizer tokenizer, RewardFunction reward) {
        double[] scores = new double[problems.size()];
        for (TreeFinished tree : trees) {
            Problem problem = problems.get(tree.promptIndex());
            double correct = 0;
            for (Leaf leaf : tree.leaves()) {
                correct += reward.score(problem, tokenizer.decode(leaf.responseTokens())) >= 1.0 ? 1 : 0;
            }
            scores[tree.promptIndex()] = tree.leaves().isEmpty() ? 0 : correct / tree.leaves().size();
        }
        return scores;
    }

    private static List<LevelAccuracy> perLevel(List<Problem> problems, double[] greedyScores, double[] sampledScores) {
        Map<Integer, List<Integer>> indicesByLevel = new TreeMap<>();
        for (int i = 0; i < problems.size(); i++) {
            indicesByLevel.computeIfAbsent(problems.get(i).level(), level -> new ArrayList<>()).add(i);
        }
        List<LevelAccuracy> levels = new ArrayList<>(indicesByLevel.size());
        for (Map.Entry<Integer, List<Integer>> entry : indicesByLevel.entrySet()) {
            List<Integer> indices = entry.getValue();
            double greedy = 0;
            double sampled = 0;
            for (int i : indices) {
                greedy += greedyScores[i];
                sampled += sampledScores[i];
            }
            levels.add(new LevelAccuracy(entry.getKey(), indices.size(), greedy / indices.size(), sampled / indices.size()));
        }
        return levels;
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double value : values) {
            sum += value;
        }
        return values.length == 0 ? 0 : sum / values.length;
    }

    /** Standard error of the mean, with the unbiased variance over problems. */
    private static double stdErr(double[] values) {
        if (values.length < 2) {
            return 0;
        }
        double mean = mean(values);
        double squares = 0;
        for (double value : values) {
            squares += (value - mean) * (value - mean);
        }
        return Math.sqrt(squares / (values.length - 1) / values.length);
    }
}
