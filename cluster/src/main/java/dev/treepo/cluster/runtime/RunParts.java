package dev.treepo.cluster.runtime;

import dev.treepo.cluster.config.Settings;
import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.train.PolicyLoss;
import dev.treepo.model.train.TrainerSettings;
import dev.treepo.task.ArithmeticTask;
import dev.treepo.task.JsonlProblems;
import dev.treepo.task.Problem;
import dev.treepo.trainer.AdvantageEstimator;
import dev.treepo.trainer.TrainingSchedule;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.util.List;

/** Turns typed settings into the objects the actors and the trainer take. */
public final class RunParts {

    private RunParts() {}

    public static TreeConfig treeConfig(Settings.Rollout rollout) {
        return new TreeConfig(
                TreeConfig.Mode.valueOf(rollout.mode().name()),
                rollout.width(),
                rollout.segmentTokens(),
                rollout.maxDepth(),
                rollout.mode() == Settings.Rollout.Mode.INDEPENDENT ? rollout.width() : rollout.rootDivergence(),
                rollout.branchFactor(),
                TreeConfig.Allocation.valueOf(rollout.allocation().name()),
                rollout.allocationTemperature(),
                rollout.maxResponseTokens(),
                TreeConfig.FallbackSource.valueOf(rollout.fallback().source().name()),
                TreeConfig.FallbackCut.valueOf(rollout.fallback().cut().name()),
                rollout.fallback().blockTokens(),
                rollout.repetition().windowChars(),
                rollout.repetition().minCount());
    }

    public static SamplingParams sampling(Settings.Rollout rollout) {
        Settings.Sampling sampling = rollout.sampling();
        return new SamplingParams(sampling.temperature(), sampling.topP(), sampling.topK());
    }

    public static TrainerSettings optimizer(Settings.Train train) {
        return new TrainerSettings(train.learningRate(), train.weightDecay(), train.gradClip(),
                new PolicyLoss(train.clipLow(), train.clipHigh(), train.dualClip(), train.klCoef()));
    }

    /** Builds the run schedule; {@code warmupSteps} is 0 when the run starts from a checkpoint. */
    public static TrainingSchedule schedule(Settings settings, int warmupSteps) {
        return new TrainingSchedule(
                warmupSteps,
                settings.warmup().batchSize(),
                settings.warmup().learningRate(),
                settings.train().steps(),
                settings.train().promptsPerStep(),
                settings.train().learningRate(),
                settings.train().miniBatches(),
                AdvantageEstimator.valueOf(settings.advantage().estimator().name()),
                settings.advantage().filterUniformGroups(),
                settings.advantage().maxRolloutsPerStep(),
                settings.eval().samples(),
                settings.train().checkpointEvery(),
                settings.run().seed(),
                settings.runDir());
    }

    /** Returns the training problems: generated arithmetic, or the task.train-file JSON Lines file. */
    public static List<Problem> trainProblems(Settings.Task task) throws IOException {
        if (task.name() == Settings.Task.Kind.ARITHMETIC) {
            return ArithmeticTask.train(task.seed(), task.trainSize());
        }
        List<Problem> problems = JsonlProblems.load(Settings.userPath(task.trainFile()));
        return problems.subList(0, Math.min(problems.size(), task.trainSize()));
    }

    /** Returns at most {@code limit} held-out problems (eval.max-problems and task.eval-size both cap it). */
    public static List<Problem> evalProblems(Settings.Task task, int limit) throws IOException {
        int count = Math.min(task.evalSize(), limit);
        if (task.name() == Settings.Task.Kind.ARITHMETIC) {
            return ArithmeticTask.eval(task.seed(), count);
        }
        List<Problem> problems = JsonlProblems.load(Settings.userPath(task.evalFile()));
        return problems.subList(0, Math.min(problems.size(), count));
    }
}
