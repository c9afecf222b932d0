package dev.treepo.cluster.cli;

import ai.djl.ndarray.NDManager;
import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.runtime.EmbeddedSystem;
import dev.treepo.cluster.runtime.InferenceSide;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.RunParts;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.task.BoxedMatchReward;
import dev.treepo.task.Problem;
import dev.treepo.task.PromptFormat;
import dev.treepo.trainer.CheckpointWriter;
import dev.treepo.trainer.EvalResult;
import dev.treepo.trainer.Trainer;
import dev.treepo.trainer.TrainingSchedule;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code treepo train}: warm-up (from scratch only), TreePO RL and evaluation, in one JVM. */
final class TrainCommand {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    private TrainCommand() {}

    static int run(Settings settings, String effectiveConfig) throws IOException {
        // Load and check every input before the run folder is written, so bad input leaves nothing behind.
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
        LOG.info("Run {}: model {} ({} parameters), {} training and {} held-out problems, rollout {} width {}",
                settings.run().name(), model.fromCheckpoint() ? settings.model().path() : "tiny preset, random init",
                parameterCount(model), train.size(), eval.size(), tree.mode(), tree.width());

        NDManager manager = NDManager.newBaseManager(settings.inference().device().toDjlDevice());
        Qwen2Weights reference = settings.train().klCoef() > 0
                ? Qwen2Weights.fromHost(model.config(), manager, model.weights())
                : null;
        try (PolicyTrainer policy = new PolicyTrainer(Qwen2Weights.fromHost(model.config(), manager, model.weights()),
                        reference, model.tokenizer().padId(), model.tokenizer().vocabSize(),
                        RunParts.optimizer(settings.train()));
                EmbeddedSystem system = EmbeddedSystem.start("treepo")) {
            if (model.optimizerState() != null) {
                policy.loadOptimizerState(model.optimizerState());
            }
            InferenceSide inference = InferenceSide.start(system.system(), settings, model, model.tokenizer());
            Trainer.Job job = new Trainer.Job(train, eval, new PromptFormat(), new BoxedMatchReward(),
                    new BoxedAnswerScenario(tree), tree, RunParts.sampling(settings.rollout()), model.policyVersion());
            ActorRef<Trainer.Command> trainer = system.spawn(
                    Trainer.create(schedule, job, policy, model.tokenizer(),
                            new CheckpointWriter(model.config(), model.tokenizerJson()), inference.rollouts(),
                            inference.workers()),
                    "trainer", DispatcherSelector.blocking());
            EmbeddedSystem.Reply<Trainer.TrainingFinished> done = system.reply(Trainer.TrainingFinished.class, "run")
                    .watch(trainer)
                    .watch(inference.rollouts());
            inference.workers().forEach(done::watch);
            trainer.tell(new Trainer.Start(done.ref()));
            Trainer.TrainingFinished finished = done.future().join();
            if (finished.error() != null) {
                LOG.error("Training failed: {}", finished.error());
                return 1;
            }
            report(finished);
            return 0;
        } finally {
            manager.close();
        }
    }

    private static void report(Trainer.TrainingFinished finished) {
        EvalResult before = finished.before();
        EvalResult after = finished.after();
        if (before != null && after != null) {
            System.out.printf("held-out accuracy on %d problems: greedy %.1f%% -> %.1f%% (%+.1f standard errors), "
                            + "mean over %d samples %.1f%% -> %.1f%% (%+.1f standard errors)%n",
                    after.problems(), 100 * before.greedyAccuracy(), 100 * after.greedyAccuracy(),
                    before.greedyImprovementInStdErrs(after), after.samples(), 100 * before.sampledAccuracy(),
                    100 * after.sampledAccuracy(), before.sampledImprovementInStdErrs(after));
        }
        System.out.println("final checkpoint: " + finished.finalCheckpoint());
    }

    private static long parameterCount(ModelSource model) {
        return model.weights().values().stream().mapToLong(t -> t.numel()).sum();
    }
}
