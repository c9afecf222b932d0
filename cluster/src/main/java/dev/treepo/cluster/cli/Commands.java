package dev.treepo.cluster.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.treepo.cluster.bench.RolloutBench;
import dev.treepo.cluster.config.Settings;
import java.io.IOException;
import java.nio.file.Path;

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
        return EvalCommand.run(settings, checkpoint);
    }

    /** Compares tree rollouts with independent sampling. The config is rooted at {@code treepo}. */
    public static int bench(Settings settings, Config config) throws IOException {
        return RolloutBench.run(settings, System.out);
    }
}
