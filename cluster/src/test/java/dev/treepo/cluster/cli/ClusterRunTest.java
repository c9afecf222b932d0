package dev.treepo.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three cluster nodes in one JVM on loopback: a trainer and two inference nodes with two workers
 * each, running two training steps with weights streamed between the ActorSystems.
 */
class ClusterRunTest {

    private static final String[] SMALL_RUN = {
        "warmup.steps=4", "warmup.batch-size=4", "train.steps=2", "train.prompts-per-step=6",
        "train.mini-batches=1", "advantage.max-rollouts-per-step=1", "task.train-size=64", "task.eval-size=4",
        "eval.max-problems=4", "eval.samples=1", "rollout.width=4", "rollout.max-depth=3",
        "inference.kv.blocks=2048", "inference.max-batch=8", "cluster.down-after-seconds=5"
    };

    @TempDir
    Path tempDir;

    @Test
    void trainerAndTwoInferenceNodesRunTwoSteps() throws Exception {
        int port = freePort();
        String seeds = "cluster.seed-nodes=[\"127.0.0.1:" + port + "\"]";
        Path runDir = tempDir.resolve("run");

        List<CompletableFuture<Output>> nodes = new ArrayList<>();
        nodes.add(start(args("trainer", "cluster.port=" + port, seeds, "cluster.min-inference-nodes=2",
                "run.dir=" + runDir)));
        for (int i = 0; i < 2; i++) {
            nodes.add(start(args("inference", "cluster.port=0", seeds, "inference.workers=2")));
        }
        Output trainer = nodes.get(0).get(4, TimeUnit.MINUTES);
        assertEquals(0, trainer.code(), "trainer node failed:\n" + trainer.err() + trainer.out());
        assertTrue(trainer.out().contains("cluster checks passed"), trainer.out());

        // Both inference nodes served segments, and each process reports its own count on exit.
        // Both workers of each node grew trees: the node spreads its load.
        Matcher served = Pattern.compile(
                        "inference node (\\S+) served (\\d+) segments in (\\d+) trees, trees per worker \\{(.*)}\\n")
                .matcher(trainer.out());
        int servingNodes = 0;
        while (served.find()) {
            assertTrue(Long.parseLong(served.group(2)) > 0, trainer.out());
            assertEquals(2, served.group(4).split(", ").length, "trees per worker: " + served.group(4));
            servingNodes++;
        }
        assertEquals(2, servingNodes, trainer.out());
        for (CompletableFuture<Output> node : nodes.subList(1, 3)) {
            Output inference = node.get(1, TimeUnit.MINUTES);
            assertEquals(0, inference.code(), inference.err());
            assertTrue(inference.out().matches("(?s).*inference node \\S+ served [1-9]\\d* segments.*"), inference.out());
        }

        // Every step trained on trees of the current policy (max-staleness 0), N leaves per prompt.
        ObjectMapper json = new ObjectMapper();
        List<String> steps = Files.readAllLines(runDir.resolve("metrics.jsonl"));
        assertEquals(2, steps.size());
        for (String line : steps) {
            JsonNode step = json.readTree(line);
            assertEquals(step.get("policy_version").asLong() - 1, step.get("oldest_tree_version").asLong(), line);
            assertEquals(6 * 4, step.get("leaves").asInt(), line);
        }
        // The warm-up's version and both steps' versions were synced and verified.
        assertTrue(trainer.out().contains("weight syncs verified: 3"), trainer.out());
    }

    private String[] args(String role, String... extra) {
        List<String> args = new ArrayList<>(List.of("node", "--role", role));
        args.addAll(List.of(SMALL_RUN));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    private CompletableFuture<Output> start(String[] args) {
        // One thread per node: the common pool has a single thread on a 2-core machine.
        return CompletableFuture.supplyAsync(() -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), tempDir);
            return new Output(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }, command -> new Thread(command, "node-" + args[2]).start());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private record Output(int code, String out, String err) {}
}
