package dev.treepo.cluster.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.node.ClusterNode;
import dev.treepo.cluster.node.StreamWeightTransport;
import dev.treepo.cluster.runtime.EmbeddedSystem;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.RunParts;
import dev.treepo.cluster.transfer.WeightEncoder;
import dev.treepo.cluster.transfer.WeightSyncMeasurement;
import dev.treepo.cluster.transfer.WeightTransferException;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.rollout.RolloutManager;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.rollout.RolloutRouter;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code treepo bench cluster}: rollout throughput with one and with two inference processes on
 * this machine, each a separate JVM that joins a driver node in this one, and the bytes and seconds
 * of one weight sync, for the run's model between processes and for a random model the size of
 * Qwen2.5-0.5B between two ActorSystems of this JVM.
 */
public final class ClusterBench {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterBench.class);

    /** Heap the Qwen2.5-0.5B-size sync needs: the sent and the received float32 copies plus slack. */
    private static final long LARGE_SYNC_HEAP_BYTES = 5L << 30;

    private ClusterBench() {}

    /** One throughput row: a timed rollout over {@code processes} inference processes. */
    record Row(int processes, RolloutFinished rollout, long syncBytes, double syncSeconds) {}

    public static int run(Settings settings, Config config, PrintStream out) throws IOException, InterruptedException {
        BenchInputs inputs = BenchInputs.load(settings);
        ModelSource model = inputs.model();
        List<PromptJob> jobs = inputs.jobs();
        TreeConfig tree = RunParts.treeConfig(settings.rollout());
        PolicyWeights weights = new PolicyWeights(Math.max(1, model.policyVersion()), model.weights());
        Path configFile = Files.createTempFile("treepo-bench-node", ".conf");
        Files.writeString(configFile, "treepo " + config.root().render(ConfigRenderOptions.concise()) + "\n");

        List<Row> rows = new ArrayList<>();
        for (int processes = 1; processes <= 2; processes++) {
            rows.add(throughput(settings, configFile, jobs, tree, weights, processes));
        }
        WeightSyncMeasurement.Result large = null;
        long largeParameters = 0;
        if (Runtime.getRuntime().maxMemory() >= LARGE_SYNC_HEAP_BYTES) {
            PolicyWeights random = randomWeights(DecodeBench.qwen25HalfB(), settings.run().seed());
            largeParameters = random.parameterCount();
            try {
                large = WeightSyncMeasurement.measure(random, settings.cluster().weightChunkBytes(), Duration.ofMinutes(10));
            } catch (WeightTransferException | java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException("the Qwen2.5-0.5B-size weight sync failed: " + e.getMessage(), e);
            }
        }
        print(out, rows, jobs.size(), tree, model, weights, large, largeParameters);
        Files.deleteIfExists(configFile);
        return 0;
    }

    private static Row throughput(
            Settings settings, Path configFile, List<PromptJob> jobs, TreeConfig tree, PolicyWeights weights, int processes)
            throws IOException, InterruptedException {
        int port = freePort();
        Settings.Cluster base = settings.cluster();
        Settings.Cluster driverCluster = new Settings.Cluster("127.0.0.1", port, List.of(), processes,
                base.maxMessageBytes(), base.weightChunkBytes(), base.downAfterSeconds());
        List<Process> nodes = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        boolean measured = false;
        try (EmbeddedSystem system = EmbeddedSystem.wrap(ClusterNode.start(driverCluster, Set.of(ClusterNode.TRAINER)))) {
            StreamWeightTransport transport = new StreamWeightTransport(system.system(), base.weightChunkBytes());
            ActorRef<RolloutRouter.Command> router =
                    system.spawn(RolloutRouter.create(processes, transport), "router", Props.empty());
            for (int i = 0; i < processes; i++) {
                Path log = Files.createTempFile("treepo-bench-inference-" + i + "-", ".log");
                logs.add(log);
                nodes.add(startInferenceProcess(configFile, port, log));
            }
            long checksum = weights.checksum();
            EmbeddedSystem.Reply<RolloutRouter.WeightsPublished> synced =
                    system.reply(RolloutRouter.WeightsPublished.class, "sync").watch(router);
            router.tell(new RolloutRouter.PublishWeights(weights, checksum, synced.ref()));
            RolloutRouter.WeightsPublished published = synced.future().join();
            if (published.error() != null) {
                throw new IllegalStateException("weight sync failed: " + published.error());
            }
            long syncBytes = new WeightEncoder(weights, base.weightChunkBytes(), checksum)
                    .totalBytes();
            // One untimed rollout first, so JIT compilation in the new processes does not land on the row.
            rollout(system, router, jobs.subList(0, Math.min(jobs.size(), 4 * processes)), tree, settings, 0);
            RolloutFinished timed = rollout(system, router, jobs, tree, settings, settings.run().seed());
            LOG.info("{} inference process(es): {} segments in {} s", processes, timed.inferenceCalls(), timed.seconds());
            router.tell(new RolloutRouter.ShutdownNodes("the benchmark finished"));
            for (Process node : nodes) {
                if (!node.waitFor(60, TimeUnit.SECONDS)) {
                    LOG.warn("Inference process {} did not stop after the benchmark; stopping it", node.pid());
                }
            }
            measured = true;
            return new Row(processes, timed, syncBytes, published.seconds());
        } finally {
            nodes.forEach(Process::destroy);
            for (Path log : logs) {
                if (measured) {
                    Files.deleteIfExists(log);
                } else {
                    LOG.error("The benchmark failed; the inference process log is {}", log);
                }
            }
        }
    }

    /** Starts {@code treepo node --role inference} in a new JVM with this JVM's class path. */
    private static Process startInferenceProcess(Path configFile, int seedPort, Path log) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        LOG.info("Starting an inference process; its log is {}", log);
        ProcessBuilder builder = new ProcessBuilder(java.toString(), "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1", "-Xmx2g",
                "-cp", System.getProperty("java.class.path"),
                "dev.treepo.cluster.cli.Main", "node", "--role", "inference", "--config", configFile.toString(),
                "cluster.port=0", "cluster.seed-nodes=[\"127.0.0.1:" + seedPort + "\"]");
        // As ./treepo does: fewer malloc arenas keep libtorch's native memory from fragmenting.
        builder.environment().putIfAbsent("MALLOC_ARENA_MAX", "2");
        return builder
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static RolloutFinished rollout(
            EmbeddedSystem system,
            ActorRef<RolloutRouter.Command> router,
            List<PromptJob> jobs,
            TreeConfig tree,
            Settings settings,
            long seed) {
        EmbeddedSystem.Reply<RolloutFinished> done =
                system.reply(RolloutFinished.class, "bench-" + System.nanoTime()).watch(router);
        router.tell(new RolloutManager.RunRollout(seed, jobs, tree, new BoxedAnswerScenario(tree),
                RunParts.sampling(settings.rollout()), seed, done.ref()));
        RolloutFinished finished = done.future().join();
        if (!finished.failures().isEmpty()) {
            throw new IllegalStateException("bench rollout failed: " + finished.failures().get(0).reason());
        }
        return finished;
    }

    /** Builds random float32 weights with the tensor names and shapes of a Qwen2 model. */
    static PolicyWeights randomWeights(Qwen2Config config, long seed) {
        int hidden = config.hiddenSize();
        int kv = config.numKeyValueHeads() * config.headDim();
        int inter = config.intermediateSize();
        TreeMap<String, HostTensor> tensors = new TreeMap<>();
        SplittableRandom random = new SplittableRandom(seed);
        tensors.put("model.embed_tokens.weight", random(random, config.vocabSize(), hidden));
        tensors.put("model.norm.weight", random(random, hidden));
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            String prefix = "model.layers." + layer + ".";
            tensors.put(prefix + "input_layernorm.weight", random(random, hidden));
            tensors.put(prefix + "post_attention_layernorm.weight", random(random, hidden));
            tensors.put(prefix + "self_attn.q_proj.weight", random(random, hidden, hidden));
            tensors.put(prefix + "self_attn.q_proj.bias", random(random, hidden));
            tensors.put(prefix + "self_attn.k_proj.weight", random(random, kv, hidden));
            tensors.put(prefix + "self_attn.k_proj.bias", random(random, kv));
            tensors.put(prefix + "self_attn.v_proj.weight", random(random, kv, hidden));
            tensors.put(prefix + "self_attn.v_proj.bias", random(random, kv));
            tensors.put(prefix + "self_attn.o_proj.weight", random(random, hidden, hidden));
            tensors.put(prefix + "mlp.gate_proj.weight", random(random, inter, hidden));
            tensors.put(prefix + "mlp.up_proj.weight", random(random, inter, hidden));
            tensors.put(prefix + "mlp.down_proj.weight", random(random, hidden, inter));
        }
        if (!config.tieWordEmbeddings()) {
            tensors.put("lm_head.weight", random(random, config.vocabSize(), hidden));
        }
        return new PolicyWeights(1, tensors);
    }

    private static HostTensor random(SplittableRandom random, long... shape) {
        HostTensor tensor = HostTensor.zeros(shape);
        float[] data = tensor.data();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (random.nextDouble() * 0.04 - 0.02);
        }
        return tensor;
    }

    private static void print(
            PrintStream out,
            List<Row> rows,
            int prompts,
            TreeConfig tree,
            ModelSource model,
            PolicyWeights weights,
            WeightSyncMeasurement.Result large,
            long largeParameters) {
        out.printf("Cluster rollouts of %d prompts, width %d, depth %d, %d tokens per segment, model: %s%n",
                prompts, tree.width(), tree.maxDepth(), tree.segmentTokens(),
                model.fromCheckpoint() ? "checkpoint" : "tiny preset, random init");
        out.println();
        out.println("| inference processes | rollout seconds | segments | segments/s | tokens fwd/s | speed-up |");
        out.println("|---|---|---|---|---|---|");
        double baseline = rows.get(0).rollout().seconds();
        for (Row row : rows) {
            RolloutFinished r = row.rollout();
            out.printf("| %d | %.2f | %d | %.0f | %.0f | %.2fx |%n", row.processes(), r.seconds(), r.inferenceCalls(),
                    r.inferenceCalls() / r.seconds(), r.tokensForwarded() / r.seconds(), baseline / r.seconds());
        }
        out.println();
        out.println("| weight sync | parameters | bytes | seconds | MB/s |");
        out.println("|---|---|---|---|---|");
        for (Row row : rows) {
            out.printf("| run model to %d process(es) | %d | %d | %.3f | %.1f |%n", row.processes(),
                    weights.parameterCount(), row.syncBytes(), row.syncSeconds(), row.syncBytes() / 1e6 / row.syncSeconds());
        }
        if (large != null) {
            out.printf("| Qwen2.5-0.5B size, random, between two ActorSystems on loopback | %d | %d | %.2f | %.1f |%n",
                    largeParameters, large.bytes(), large.seconds(), large.megabytesPerSecond());
        } else {
            out.println("| Qwen2.5-0.5B size: skipped, needs about 5 GiB of heap: TREEPO_HEAP=6g ./treepo bench cluster | | | | |");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
