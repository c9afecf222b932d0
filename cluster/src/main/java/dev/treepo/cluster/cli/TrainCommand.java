package dev.treepo.cluster.cli;

import ai.djl.ndarray.NDManager;
import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.runtime.EmbeddedSystem;
import dev.treepo.cluster.runtime.InferenceNodes;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.TrainingSetup;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.policy.WeightTransport;
import dev.treepo.trainer.EvalResult;
import dev.treepo.trainer.Trainer;
import dev.treepo.trainer.TrainingSupervisor;
import java.io.IOException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code treepo train}: warm-up (from scratch only), TreePO RL and evaluation, in one JVM. */
final class TrainCommand {

    private static final Logger LOG = LoggerFactory.getLogger(TrainCommand.class);

    private TrainCommand() {}

    static int run(Settings settings, String effectiveConfig) throws IOException {
        TrainingSetup setup = TrainingSetup.prepare(settings, effectiveConfig);
        ModelSource model = setup.model();
        NDManager manager = NDManager.newBaseManager(settings.inference().device().toDjlDevice());
        try (PolicyTrainer policy = setup.newPolicy(manager);
                EmbeddedSystem system = EmbeddedSystem.start("treepo")) {
            // One JVM with both roles: the inference node shares each policy version in memory.
            WeightTransport transport = WeightTransport.inMemory();
            InferenceNodes.Started inference = InferenceNodes.start(system.system(), settings, model, "local", transport, null);
            ActorRef<TrainingSupervisor.Command> trainer = system.spawn(setup.trainerRole(policy, 1, transport),
                    "training", Props.empty());
            EmbeddedSystem.Reply<Trainer.TrainingFinished> done = system.reply(Trainer.TrainingFinished.class, "run")
                    .watch(trainer)
                    .watch(inference.node());
            trainer.tell(new TrainingSupervisor.Start(done.ref()));
            Trainer.TrainingFinished finished = done.future().join();
            if (finished.error() != null) {
                LOG.error("Training failed: {}", finished.error());
                return 1;
            }
            report(finished, System.out);
            return 0;
        } finally {
            manager.close();
        }
    }

    /** Prints the held-out accuracy before and after RL and the final checkpoint, when the run has them. */
    static void report(Trainer.TrainingFinished finished, java.io.PrintStream out) {
        EvalResult before = finished.before();
        EvalResult after = finished.after();
        if (before != null && after != null) {
            out.printf("held-out accuracy on %d problems: greedy %.1f%% -> %.1f%% (%+.1f standard errors, %+.1f paired), "
                            + "mean over %d samples %.1f%% -> %.1f%% (%+.1f standard errors, %+.1f paired)%n",
                    after.problems(), 100 * before.greedyAccuracy(), 100 * after.greedyAccuracy(),
                    before.greedyImprovementInStdErrs(after), before.greedyPairedImprovementInStdErrs(after),
                    after.samples(), 100 * before.sampledAccuracy(), 100 * after.sampledAccuracy(),
                    before.sampledImprovementInStdErrs(after), before.sampledPairedImprovementInStdErrs(after));
        }
        if (finished.finalCheckpoint() != null) {
            out.println("final checkpoint: " + finished.finalCheckpoint());
        }
    }
}
