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
 * problem, each with its standard error over problems.
 *
 * @param problems        problems evaluated
 * @param greedyAccuracy  fraction solved by greedy decoding
 * @param greedyStdErr    standard error of the mean over problems, with the unbiased variance:
 *                        sqrt(p (1 - p) / (problems - 1))
 * @param samples         sampled answers per problem
 * @param sampledAccuracy mean over problems of the fraction of correct samples
 * @param sampledStdErr   standard deviation over problems of that fraction, divided by sqrt(problems)
 * @param levels          the same two accuracies per difficulty level, in ascending level order
 * @param greedyByProblem 1 or 0 per problem, in evaluation order, for the paired comparison
 * @param sampledByProblem the fraction of correct samples per problem, in evaluation order
 */
public record EvalResult(
        int problems,
        double greedyAccuracy,
        double greedyStdErr,
        int samples,
        double sampledAccuracy,
        double sampledStdErr,
        List<LevelAccuracy> levels,
        double[] greedyByProblem,
        double[] sampledByProblem) {

    public EvalResult {
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
        return new EvalResult(problems.size(), mean(greedyScores), stdErr(greedyScores), samples,
                mean(sampledScores), stdErr(sampledScores), perLevel(problems, greedyScores, sampledScores),
                greedyScores, sampledScores);
    }

    /** Returns how many standard errors of the difference separate {@code after} from this result. */
    public double sampledImprovementInStdErrs(EvalResult after) {
        double se = Math.sqrt(sampledStdErr * sampledStdErr + after.sampledStdErr * after.sampledStdErr);
        return se == 0 ? 0 : (after.sampledAccuracy - sampledAccuracy) / se;
    }

    /** Same as {@link #sampledImprovementInStdErrs} for greedy pass@1. */
    public double greedyImprovementInStdErrs(EvalResult after) {
        double se = Math.sqrt(greedyStdErr * greedyStdErr + after.greedyStdErr * after.greedyStdErr);
        return se == 0 ? 0 : (after.greedyAccuracy - greedyAccuracy) / se;
    }

    /**
     * Returns the mean per-problem change from this result to {@code after} divided by its standard
     * error: the paired test, for two evaluations of the same problems in the same order. It is
     * smaller than the unpaired standard error whenever a problem that one policy solves tends to be
     * solved by the other too.
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

    private static double pairedStdErrs(double[] before, double[] after) {
        if (before.length != after.length) {
            throw new IllegalArgumentException("A paired comparison needs the same problems before and after, but got "
                    + before.length + " and " + after.length + " problems; evaluate both with the same eval settings.");
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
