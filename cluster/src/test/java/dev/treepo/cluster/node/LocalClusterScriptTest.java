package dev.treepo.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs scripts/local-cluster.sh: a trainer and two inference nodes as separate JVM processes. */
class LocalClusterScriptTest {

    @TempDir
    Path tempDir;

    @Test
    void scriptRunsTwoStepsOnThreeProcesses() throws Exception {
        Path root = Path.of(System.getProperty("user.dir")).getParent();
        Path script = root.resolve("scripts/local-cluster.sh");
        assertTrue(Files.isRegularFile(script), "missing " + script);

        ProcessBuilder builder = new ProcessBuilder(List.of("bash", script.toString(),
                "train.steps=2", "warmup.steps=4", "warmup.batch-size=4", "train.prompts-per-step=4",
                "train.mini-batches=1", "advantage.max-rollouts-per-step=1", "task.train-size=64",
                "task.eval-size=4", "eval.max-problems=4", "eval.samples=1", "rollout.width=4",
                "rollout.max-depth=3", "inference.kv.blocks=2048", "inference.max-batch=8",
                "run.dir=" + tempDir.resolve("run")))
                .directory(root.toFile())
                .redirectErrorStream(true);
        builder.environment().put("TREEPO_CLASSPATH", System.getProperty("java.class.path"));
        builder.environment().put("TREEPO_CLUSTER_PORT", Integer.toString(freePort()));
        builder.environment().put("TREEPO_LOG_DIR", tempDir.resolve("logs").toString());
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), output);

        assertEquals(0, process.exitValue(), output);
        Matcher served = Pattern.compile("inference process \\d: inference node \\S+ served (\\d+) segments").matcher(output);
        int processes = 0;
        while (served.find()) {
            assertTrue(Long.parseLong(served.group(1)) > 0, output);
            processes++;
        }
        assertEquals(2, processes, output);
        assertTrue(output.contains("trainer: cluster checks passed"), output);
        assertTrue(output.contains("local cluster: all checks passed"), output);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
