package dev.treepo.cluster.cli;

import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.runtime.EmbeddedSystem;
import dev.treepo.cluster.runtime.InferenceSide;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.RunParts;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.task.BoxedMatchReward;
import dev.treepo.task.Problem;
import dev.treepo.trainer.EvalResult;
import dev.treepo.trainer.Evaluator;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code treepo eval --checkpoint DIR}: held-out greedy pass@1 and mean accuracy over N samples.
 * It uses the same problems and seed as the evaluation after RL in {@code treepo train}, so a run's
 * final checkpoint reproduces the accuracy that run reported.
 */
final class EvalCommand {

    private static final Logger LOG = LoggerFactory.getLogger(EvalCommand.class);

    private EvalCommand() {}

    static int run(Settings settings, Path checkpoint) throws IOException {
        ModelSource model = ModelSource.load(checkpoint);
        List<Problem> problems = RunParts.evalProblems(settings.task(), settings.eval().maxProblems());
        TreeConfig tree = RunParts.treeConfig(settings.rollout());
        try (EmbeddedSystem system = EmbeddedSystem.start("treepo-eval")) {
            InferenceSide inference = InferenceSide.start(system.system(), settings, model, model.tokenizer());
            inference.loadWeights(system.system(), new PolicyWeights(model.policyVersion(), model.weights()));
            Evaluator.Plan plan = new Evaluator.Plan(problems,
                    RunParts.promptFormat(settings.task(), model.tokenizer()), new BoxedMatchReward(),
                    new BoxedAnswerScenario(tree), tree, RunParts.sampling(settings.rollout()), settings.eval().samples(),
                    Evaluator.seed(settings.run().seed()));
            EmbeddedSystem.Reply<Evaluator.Evaluated> done = system.reply(Evaluator.Evaluated.class, "result")
                    .watch(inference.rollouts());
            inference.workers().forEach(done::watch);
            system.spawn(Evaluator.create(plan, model.tokenizer(), inference.rollouts().narrow(), done.ref()), "evaluator",
                    Props.empty());
            Evaluator.Evaluated evaluated = done.future().join();
            if (evaluated.error() != null) {
                LOG.error("Evaluation failed: {}", evaluated.error());
                return 1;
            }
            EvalResult result = evaluated.result();
            System.out.printf("checkpoint %s (policy version %d), %d problems: greedy pass@1 %.1f%% +- %.1f%%, "
                            + "mean over %d samples %.1f%% +- %.1f%%%n",
                    checkpoint, model.policyVersion(), result.problems(), 100 * result.greedyAccuracy(),
                    100 * result.greedyStdErr(), result.samples(), 100 * result.sampledAccuracy(),
                    100 * result.sampledStdErr());
            return 0;
        }
    }
}
