package dev.treepo.cluster.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.treepo.cluster.bench.ClusterBench;
import dev.treepo.cluster.bench.RolloutBench;
import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.runtime.RunParts;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Set;

/** The commands of the treepo command line, each returning the process exit code. */
public final class Commands {

    private Commands() {}

    /** Runs the warm-up and the RL steps. The config is rooted at {@code treepo}. */
    public static int train(Settings settings, Config config) throws IOException {
        String effective = "# Effective configuration of this run.\ntreepo "
                + config.root().render(ConfigRenderOptions.defaults().setOriginComments(false)) + "\n";
        return TrainCommand.run(settings, effective);
    }

    /** Evaluates the checkpoint folder {@code checkpoint}. The config is rooted at {@code treepo}. */
    public static int eval(Settings settings, Config config, Path checkpoint) throws IOException {
        return EvalCommand.run(RunParts.evalSettings(settings, config, checkpoint), checkpoint);
    }

    /**
     * Runs one cluster node with {@code roles}; a node with the trainer role runs the training job
     * and returns its exit code, an inference-only node returns when the trainer shuts it down.
     */
    public static int node(Settings settings, Config config, Set<String> roles, PrintStream out) throws IOException {
        String effective = "# Effective configuration of this run.\ntreepo "
                + config.root().render(ConfigRenderOptions.defaults().setOriginComments(false)) + "\n";
        return NodeCommand.run(settings, effective, roles, out);
    }

    /**
     * Measures rollout throughput over one and two inference processes and the weight sync. The
     * config is rooted at {@code treepo}.
     */
    public static int benchCluster(Settings settings, Config config, PrintStream out) throws IOException {
        try {
            return ClusterBench.run(settings, config, out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.EXIT_FAILURE;
        }
    }

    /** Compares tree rollouts with independent sampling. The config is rooted at {@code treepo}. */
    public static int bench(Settings settings, Config config) throws IOException {
        return RolloutBench.run(settings, System.out);
    }
}
