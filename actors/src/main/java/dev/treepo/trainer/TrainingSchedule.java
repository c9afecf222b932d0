package dev.treepo.trainer;

import java.nio.file.Path;

/**
 * The schedule of a training run: warm-up, RL steps, evaluation and checkpoints.
 *
 * @param warmupSteps         supervised steps on worked solutions before RL; 0 skips the warm-up
 * @param warmupBatchSize     sequences per warm-up step
 * @param warmupLearningRate  peak warm-up learning rate of {@link WarmupLearningRate#standard}
 * @param rlSteps             RL steps
 * @param promptsPerStep      prompts per RL step; each yields N leaves
 * @param learningRate        RL learning rate
 * @param miniBatches         optimizer updates per RL step
 * @param estimator           advantage estimator
 * @param filterUniformGroups drop prompts whose leaves all have the same reward
 * @param maxRolloutsPerStep  with the filter on, rollouts of promptsPerStep prompts a step may run
 *                            to collect promptsPerStep prompts with mixed rewards
 * @param evalSamples         sampled answers per held-out problem
 * @param checkpointEvery     RL steps between checkpoints; 0 writes only the final one
 * @param seed                seed of the prompt order and of every rollout
 * @param runDir              folder for metrics, evaluation results and checkpoints
 * @param resetOptimizer      start RL with fresh AdamW moments instead of the warm-up's or the
 *                            starting checkpoint's
 */
public record TrainingSchedule(
        int warmupSteps,
        int warmupBatchSize,
        double warmupLearningRate,
        int rlSteps,
        int promptsPerStep,
        double learningRate,
        int miniBatches,
        AdvantageEstimator estimator,
        boolean filterUniformGroups,
        int maxRolloutsPerStep,
        int evalSamples,
        int checkpointEvery,
        long seed,
        Path runDir,
        boolean resetOptimizer) {

    public TrainingSchedule {
        require(warmupSteps >= 0, "warmup.steps must be >= 0, got " + warmupSteps);
        require(warmupBatchSize >= 1, "warmup.batch-size must be >= 1, got " + warmupBatchSize);
        require(rlSteps >= 0, "train.steps must be >= 0, got " + rlSteps);
        require(promptsPerStep >= 1, "train.prompts-per-step must be >= 1, got " + promptsPerStep);
        require(miniBatches >= 1, "train.mini-batches must be >= 1, got " + miniBatches);
        require(maxRolloutsPerStep >= 1, "advantage.max-rollouts-per-step must be >= 1, got " + maxRolloutsPerStep);
        require(evalSamples >= 1, "eval.samples must be >= 1, got " + evalSamples);
        require(checkpointEvery >= 0, "train.checkpoint-every must be >= 0, got " + checkpointEvery);
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException("invalid setting: " + message);
        }
    }
}
