package dev.treepo.trainer;

import dev.treepo.model.train.TrainSequence;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.rollout.TreeRoot;
import dev.treepo.task.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Data one RL step has collected so far: one or more rollouts, their scored training sequences and
 * the counters the step reports. Several rollouts happen only under dynamic sampling, when too few
 * prompts had mixed rewards.
 */
final class StepBatch {

    private final List<TrainSequence> sequences = new ArrayList<>();
    private List<Problem> problems = List.of();
    private List<int[]> promptTokens = List.of();
    private int rollouts;
    private int leaves;
    private double rewardSum;
    private double correct;
    private int promptsKept;
    private long inferenceCalls;
    private long tokensForwarded;
    private long tokensInLeaves;
    private double rolloutSeconds;
    private long oldestPolicyVersion = Long.MAX_VALUE;

    /** Records the prompts of the rollout about to start, which {@link #add} scores against. */
    void pending(List<Problem> problems, List<int[]> promptTokens) {
        this.problems = problems;
        this.promptTokens = promptTokens;
    }

    List<Problem> problems() {
        return problems;
    }

    List<int[]> promptTokens() {
        return promptTokens;
    }

    void add(RolloutFinished rollout, ScoredRollout scored) {
        rollouts++;
        sequences.addAll(scored.sequences());
        leaves += scored.leaves();
        rewardSum += scored.rewardMean() * scored.leaves();
        correct += scored.accuracy() * scored.leaves();
        promptsKept += scored.promptsKept();
        inferenceCalls += rollout.inferenceCalls();
        tokensForwarded += rollout.tokensForwarded();
        tokensInLeaves += rollout.tokensInLeaves();
        rolloutSeconds += rollout.seconds();
        for (TreeRoot.TreeFinished tree : rollout.trees()) {
            oldestPolicyVersion = Math.min(oldestPolicyVersion, tree.oldestPolicyVersion());
        }
    }

    List<TrainSequence> sequences() {
        return sequences;
    }

    int rollouts() {
        return rollouts;
    }

    int leaves() {
        return leaves;
    }

    double rewardMean() {
        return leaves == 0 ? 0 : rewardSum / leaves;
    }

    double accuracy() {
        return leaves == 0 ? 0 : correct / leaves;
    }

    int promptsKept() {
        return promptsKept;
    }

    long inferenceCalls() {
        return inferenceCalls;
    }

    long tokensForwarded() {
        return tokensForwarded;
    }

    long tokensInLeaves() {
        return tokensInLeaves;
    }

    double rolloutSeconds() {
        return rolloutSeconds;
    }

    /** Returns the oldest policy version that grew any segment of the step, -1 before any tree. */
    long oldestPolicyVersion() {
        return oldestPolicyVersion == Long.MAX_VALUE ? -1 : oldestPolicyVersion;
    }
}
