package dev.treepo.cluster.bench;

import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.runtime.EmbeddedSystem;
import dev.treepo.cluster.runtime.InferenceSide;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.RunParts;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.rollout.RolloutManager;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Tree rollouts against independent sampling on the same prompts, seeds and model, for width 8,
 * depth 4, 5 and 6, and branch factor 2 and 3, as in the reference runs' table (root divergence 1).
 * Each setting runs the independent chains first and the tree second, in one process, so the
 * figures compare as ratios.
 */
public final class RolloutBench {

    static final int WIDTH = 8;
    static final int[] DEPTHS = {4, 5, 6};
    static final int[] BRANCH_FACTORS = {2, 3};

    private RolloutBench() {}

    /** One setting's pair of rollouts. */
    record Row(int depth, int branchFactor, RolloutFinished independent, RolloutFinished tree) {

        static double saving(long baseline, long tree) {
            return baseline == 0 ? 0 : 100.0 * (baseline - tree) / baseline;
        }
    }

    public static int run(Settings settings, PrintStream out) throws IOException {
        BenchInputs inputs = BenchInputs.load(settings);
        ModelSource model = inputs.model();
        List<PromptJob> jobs = inputs.jobs();
        TreeConfig base = RunParts.treeConfig(settings.rollout());

        List<Row> rows = new ArrayList<>();
        try (EmbeddedSystem system = EmbeddedSystem.start("treepo-bench")) {
            InferenceSide inference = InferenceSide.start(system.system(), settings, model, model.tokenizer());
            inference.loadWeights(system.system(), new PolicyWeights(model.policyVersion(), model.weights()));
            // One untimed rollout first, so JIT compilation does not land on the first row.
            rollout(system, inference, jobs, treeOf(base, 4, 2).independent(WIDTH), settings, 0);
            for (int depth : DEPTHS) {
                for (int branchFactor : BRANCH_FACTORS) {
                    TreeConfig tree = treeOf(base, depth, branchFactor);
                    long seed = settings.run().seed() + depth * 10L + branchFactor;
                    RolloutFinished independent = rollout(system, inference, jobs, tree.independent(WIDTH), settings, seed);
                    RolloutFinished branched = rollout(system, inference, jobs, tree, settings, seed);
                    rows.add(new Row(depth, branchFactor, independent, branched));
                }
            }
        }
        print(out, rows, jobs.size(), base.segmentTokens(), model.fromCheckpoint() ? settings.model().path() : null);
        return 0;
    }

    private static TreeConfig treeOf(TreeConfig base, int depth, int branchFactor) {
        return new TreeConfig(TreeConfig.Mode.TREE, WIDTH, base.segmentTokens(), depth, 1, branchFactor,
                base.allocation(), base.allocationTemperature(), 0, base.fallbackSource(), base.fallbackCut(),
                base.fallbackBlockTokens(), base.repetitionWindowChars(), base.repetitionMinCount());
    }

    private static RolloutFinished rollout(
            EmbeddedSystem system, InferenceSide inference, List<PromptJob> jobs, TreeConfig tree, Settings settings,
            long seed) {
        EmbeddedSystem.Reply<RolloutFinished> done = system.reply(RolloutFinished.class, "bench-" + System.nanoTime())
                .watch(inference.rollouts());
        inference.workers().forEach(done::watch);
        inference.rollouts().tell(new RolloutManager.RunRollout(seed, jobs, tree, new BoxedAnswerScenario(tree),
                RunParts.sampling(settings.rollout()), seed, done.ref()));
        RolloutFinished finished = done.future().join();
        if (!finished.failures().isEmpty()) {
            throw new IllegalStateException("bench rollout failed: " + finished.failures().get(0).reason());
        }
        return finished;
    }

    static void print(PrintStream out, List<Row> rows, int prompts, int segmentTokens, String checkpoint) {
        out.printf("Rollouts of %d prompts, width %d, root divergence 1, %d tokens per segment, model: %s%n",
                prompts, WIDTH, segmentTokens, checkpoint == null ? "tiny preset, random init" : checkpoint);
        out.println();
        out.println("| depth | branch | calls indep. | calls tree | calls saved | tokens fwd indep. | tokens fwd tree "
                + "| fwd saved | leaf tokens indep. | leaf tokens tree | seconds indep. | seconds tree |");
        out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for (Row row : rows) {
            RolloutFinished a = row.independent();
            RolloutFinished b = row.tree();
            out.printf("| %d | %d | %d | %d | %.1f%% | %d | %d | %.1f%% | %d | %d | %.2f | %.2f |%n",
                    row.depth(), row.branchFactor(), a.inferenceCalls(), b.inferenceCalls(),
                    Row.saving(a.inferenceCalls(), b.inferenceCalls()), a.tokensForwarded(), b.tokensForwarded(),
                    Row.saving(a.tokensForwarded(), b.tokensForwarded()), a.tokensInLeaves(), b.tokensInLeaves(),
                    a.seconds(), b.seconds());
        }
    }
}
