package dev.treepo.cluster.runtime;

import ai.djl.ndarray.NDManager;
import dev.treepo.cluster.config.Settings;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.policy.WeightTransport;
import dev.treepo.task.BoxedMatchReward;
import dev.treepo.task.Problem;
import dev.treepo.trainer.CheckpointWriter;
import dev.treepo.trainer.Trainer;
import dev.treepo.trainer.TrainingSchedule;
import dev.treepo.trainer.TrainingSupervisor;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.Behavior;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the trainer role of a run needs, loaded and checked before any actor starts: the
 * problems, the starting model, the rollout shape, the schedule and the job. Shared by the
 * embedded {@code treepo train} and the trainer node of a cluster.
 */
public final class TrainingSetup {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingSetup.class);

    private final Settings settings;
    private final ModelSource model;
    private final TrainingSchedule schedule;
    private final Trainer.Job job;
    private final CheckpointWriter checkpoints;

    private TrainingSetup(
            Settings settings, ModelSource model, TrainingSchedule schedule, Trainer.Job job, CheckpointWriter checkpoints) {
        this.settings = settings;
        this.model = model;
        this.schedule = schedule;
        this.job = job;
        this.checkpoints = checkpoints;
    }

    /**
     * Loads the inputs of a run, then creates the run folder with the effective configuration in
     * it. Bad input fails before the folder is written, so it leaves nothing behind.
     */
    public static TrainingSetup prepare(Settings settings, String effectiveConfig) throws IOException {
        List<Problem> train = RunParts.trainProblems(settings.task());
        List<Problem> eval = RunParts.evalProblems(settings.task(), settings.eval().maxProblems());
        ModelSource model = settings.model().path().isEmpty()
                ? null
                : ModelSource.load(Settings.userPath(settings.model().path()));
        Path runDir = settings.runDir();
        Files.createDirectories(runDir);
        Files.writeString(runDir.resolve("config.conf"), effectiveConfig);
        if (model == null) {
            model = ModelSource.tiny(settings.run().seed(), runDir);
        }
        TreeConfig tree = RunParts.treeConfig(settings.rollout());
        int warmupSteps = model.fromCheckpoint() ? 0 : settings.warmup().steps();
        TrainingSchedule schedule = RunParts.schedule(settings, warmupSteps);
        Trainer.Job job = new Trainer.Job(train, eval, RunParts.promptFormat(settings.task(), model.tokenizer()),
                new BoxedMatchReward(), new BoxedAnswerScenario(tree), tree, RunParts.sampling(settings.rollout()),
                model.policyVersion(), settings.train().maxStaleness());
        long parameters = model.weights().values().stream().mapToLong(t -> t.numel()).sum();
        LOG.info("Run {}: model {} ({} parameters), {} training and {} held-out problems, rollout {} width {}",
                settings.run().name(), model.fromCheckpoint() ? settings.model().path() : "tiny preset, random init",
                parameters, train.size(), eval.size(), tree.mode(), tree.width());
        return new TrainingSetup(settings, model, schedule, job,
                RunParts.checkpointWriter(settings, model, effectiveConfig));
    }

    public ModelSource model() {
        return model;
    }

    /**
     * Creates the policy being trained, on the inference device's manager, with the optimizer state
     * of the starting checkpoint when it has one. The caller closes it after the run.
     */
    public PolicyTrainer newPolicy(NDManager manager) {
        Qwen2Weights reference = settings.train().klCoef() > 0
                ? Qwen2Weights.fromHost(model.config(), manager, model.weights())
                : null;
        PolicyTrainer policy = new PolicyTrainer(Qwen2Weights.fromHost(model.config(), manager, model.weights()),
                reference, model.tokenizer().padId(), model.tokenizer().vocabSize(), RunParts.optimizer(settings.train()));
        if (model.optimizerState() != null) {
            policy.loadOptimizerState(model.optimizerState());
        }
        return policy;
    }

    /** Returns the trainer role: a router that waits for {@code minNodes} inference nodes, and the trainer. */
    public Behavior<TrainingSupervisor.Command> trainerRole(PolicyTrainer policy, int minNodes, WeightTransport transport) {
        return TrainingSupervisor.create(
                router -> Trainer.create(schedule, job, policy, model.tokenizer(), checkpoints, router),
                minNodes, transport);
    }
}
