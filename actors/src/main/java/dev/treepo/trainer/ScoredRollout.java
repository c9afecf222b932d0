package dev.treepo.trainer;

import dev.treepo.model.train.TrainSequence;
import java.util.List;

/**
 * A rollout turned into training data: one sequence per kept leaf (prompt plus response, with its
 * advantage) and the reward statistics over all leaves, kept or not.
 *
 * @param sequences      training sequences of the prompts kept by the group filter
 * @param leaves         leaves scored, over all prompts
 * @param rewardMean     mean reward over all leaves
 * @param accuracy       fraction of leaves whose reward is 1
 * @param promptsKept    prompts left after the optional filter of uniform-reward groups
 * @param promptsScored  prompts scored
 */
public record ScoredRollout(
        List<TrainSequence> sequences,
        int leaves,
        double rewardMean,
        double accuracy,
        int promptsKept,
        int promptsScored) {}
