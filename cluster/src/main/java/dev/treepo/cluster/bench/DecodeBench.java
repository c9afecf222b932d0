package dev.treepo.cluster.bench;

import ai.djl.Device;
import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.engine.DecodeEngine;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.safetensors.SafetensorsDtype;
import dev.treepo.model.tensor.HostTensor;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code treepo bench decode}: writes a Qwen2.5-0.5B-shaped checkpoint with random BF16 weights,
 * loads it as the trainer would, and decodes greedily at batch 1 and batch 8 from a short prompt.
 * Prints the write and load seconds, decode tokens per second and the process memory.
 *
 * <p>Nothing is downloaded: the weights come from a seeded generator, so the decoded text is
 * meaningless but the arithmetic per token is the real model's.
 */
public final class DecodeBench {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeBench.class);

    static final String USAGE = "treepo bench decode [--dir DIR] [--new-tokens N]";

    /** Prompt length in tokens, about a short question. */
    static final int PROMPT_TOKENS = 32;
    static final int DEFAULT_NEW_TOKENS = 32;
    static final int[] BATCH_SIZES = {1, 8};

    private DecodeBench() {}

    /**
     * Returns the shape of Qwen2.5-0.5B as its {@code config.json} states it: vocabulary 151936, width
     * 896, 24 layers, 14 query heads on 2 KV heads, MLP width 4864, rope theta 1e6, tied embeddings.
     */
    public static Qwen2Config qwen25HalfB() {
        return new Qwen2Config(151_936, 896, 4864, 24, 14, 2, 1_000_000.0, 1e-6, 32_768, true, 151_643, 151_643);
    }

    /**
     * Figures of one bench run. Memory is in bytes: the peak resident set of the process
     * ({@code VmHWM}), and after the weights are loaded the resident set, the Java heap in use and the
     * heap committed. The resident set minus the committed heap estimates the native memory.
     */
    public record Result(
            long parameters,
            long checkpointBytes,
            double writeSeconds,
            double loadSeconds,
            double[] tokensPerSecond,
            long peakRssBytes,
            long rssAfterLoadBytes,
            long heapUsedAfterLoadBytes,
            long heapCommittedAfterLoadBytes) {}

    /** Runs the bench from command-line arguments and returns the exit code. */
    public static int main(List<String> args, PrintStream out, PrintStream err) {
        Path dir = null;
        int newTokens = DEFAULT_NEW_TOKENS;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if ((arg.equals("--dir") || arg.equals("--new-tokens")) && i + 1 == args.size()) {
                err.println("invalid argument: " + arg + " needs a value; usage: " + USAGE);
                return 2;
            }
            switch (arg) {
                case "--dir" -> dir = Path.of(args.get(++i));
                case "--new-tokens" -> {
                    String text = args.get(++i);
                    try {
                        newTokens = Integer.parseInt(text);
                    } catch (NumberFormatException e) {
                        newTokens = 0;
                    }
                    if (newTokens <= 0) {
                        err.println("invalid argument: --new-tokens " + text + " is not a positive integer; usage: "
                                + USAGE);
                        return 2;
                    }
                }
                default -> {
                    err.println("invalid argument: unknown argument " + arg + "; usage: " + USAGE);
                    return 2;
                }
            }
        }
        try {
            boolean temporary = dir == null;
            Path folder = temporary ? Files.createTempDirectory("treepo-decode-bench") : dir;
            try {
                Result result = run(qwen25HalfB(), folder, newTokens);
                print(out, result, newTokens, temporary ? null : folder);
            } finally {
                if (temporary) {
                    deleteRecursively(folder);
                }
            }
            return 0;
        } catch (IOException | UncheckedIOException e) {
            err.println("bench decode failed: " + e.getMessage());
            return 1;
        }
    }

    /**
     * Writes a random BF16 checkpoint of {@code config} into {@code dir}, loads it into a CPU decode
     * engine and decodes {@code newTokens} greedy tokens at each batch size of {@link #BATCH_SIZES}.
     */
    public static Result run(Qwen2Config config, Path dir, int newTokens) throws IOException {
        long parameters = Qwen2Weights.expectedShapes(config).values().stream()
                .mapToLong(DecodeBench::numel).sum();
        LOG.info("Writing a random BF16 checkpoint of {} parameters to {}", parameters, dir);
        long start = System.nanoTime();
        CheckpointFiles.saveModel(dir, config, randomWeights(config, 1),
                new CheckpointFiles.SaveOptions(SafetensorsDtype.BF16, CheckpointFiles.DEFAULT_MAX_SHARD_BYTES));
        double writeSeconds = seconds(start);
        long checkpointBytes = folderBytes(dir);
        // The generated weights are unreachable now; collect them so that the load starts from a small heap.
        System.gc();

        int blockTokens = 16;
        int blocks = BATCH_SIZES[BATCH_SIZES.length - 1] * ((PROMPT_TOKENS + newTokens) / blockTokens + 2);
        try (DecodeEngine engine = new DecodeEngine(config, Device.cpu(), blockTokens, blocks)) {
            start = System.nanoTime();
            Qwen2Config loadedConfig = CheckpointFiles.loadConfig(dir);
            engine.loadWeights(CheckpointFiles.loadModel(dir));
            double loadSeconds = seconds(start);
            if (!loadedConfig.equals(config)) {
                throw new IllegalStateException("config.json read back as " + loadedConfig + ", written as " + config);
            }
            System.gc();
            long rssAfterLoad = ProcessMemory.residentBytes();
            Runtime runtime = Runtime.getRuntime();
            long heapCommitted = runtime.totalMemory();
            long heapUsed = heapCommitted - runtime.freeMemory();

            double[] tokensPerSecond = new double[BATCH_SIZES.length];
            for (int i = 0; i < BATCH_SIZES.length; i++) {
                tokensPerSecond[i] = decode(engine, config.vocabSize(), BATCH_SIZES[i], newTokens);
            }
            return new Result(parameters, checkpointBytes, writeSeconds, loadSeconds, tokensPerSecond,
                    ProcessMemory.peakResidentBytes(), rssAfterLoad, heapUsed, heapCommitted);
        }
    }

    /**
     * Prefills {@code batch} random prompts, then decodes greedily and returns the decoded tokens per
     * second over all sequences. The prefill and the first decode step are not timed, so JIT and
     * allocator warm-up stay out of the figure.
     */
    static double decode(DecodeEngine engine, int vocab, int batch, int newTokens) {
        SplittableRandom random = new SplittableRandom(batch);
        int[] seqs = new int[batch];
        for (int b = 0; b < batch; b++) {
            int[] prompt = new int[PROMPT_TOKENS];
            for (int t = 0; t < prompt.length; t++) {
                prompt[t] = random.nextInt(vocab);
            }
            seqs[b] = engine.newSequence(prompt);
        }
        appendArgmax(engine, seqs, engine.step(seqs));
        appendArgmax(engine, seqs, engine.step(seqs));
        long start = System.nanoTime();
        for (int step = 0; step < newTokens; step++) {
            appendArgmax(engine, seqs, engine.step(seqs));
        }
        double elapsed = seconds(start);
        for (int seq : seqs) {
            engine.release(seq);
        }
        double tokensPerSecond = batch * newTokens / elapsed;
        LOG.info("batch {}: {} tokens per sequence in {} s, {} tokens/s", batch, newTokens,
                String.format("%.2f", elapsed), String.format("%.1f", tokensPerSecond));
        return tokensPerSecond;
    }

    private static void appendArgmax(DecodeEngine engine, int[] seqs, float[][] logits) {
        for (int b = 0; b < seqs.length; b++) {
            float[] row = logits[b];
            int best = 0;
            for (int v = 1; v < row.length; v++) {
                if (row[v] > row[best]) {
                    best = v;
                }
            }
            engine.append(seqs[b], new int[] {best});
        }
    }

    /**
     * Returns random weights with the init scale of {@link Qwen2Weights#random} (standard deviation
     * 0.02, biases 0, norms 1), drawn uniformly because half a billion Gaussian draws take too long.
     */
    static SortedMap<String, HostTensor> randomWeights(Qwen2Config config, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double bound = 0.02 * Math.sqrt(3);
        SortedMap<String, HostTensor> weights = new TreeMap<>();
        for (Map.Entry<String, long[]> entry : Qwen2Weights.expectedShapes(config).entrySet()) {
            HostTensor tensor = HostTensor.zeros(entry.getValue());
            float[] data = tensor.data();
            if (entry.getKey().endsWith("norm.weight")) {
                Arrays.fill(data, 1f);
            } else if (!entry.getKey().endsWith(".bias")) {
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) random.nextDouble(-bound, bound);
                }
            }
            weights.put(entry.getKey(), tensor);
        }
        return weights;
    }

    static void print(PrintStream out, Result result, int newTokens, Path keptDir) {
        out.printf("Qwen2.5-0.5B shape, random BF16 weights: %d parameters, checkpoint %.0f MiB%s%n",
                result.parameters(), result.checkpointBytes() / 1048576.0,
                keptDir == null ? " (deleted after the run)" : " in " + keptDir);
        out.printf("write %.1f s, load %.1f s (read BF16, widen to F32, copy into the engine)%n",
                result.writeSeconds(), result.loadSeconds());
        for (int i = 0; i < BATCH_SIZES.length; i++) {
            out.printf("decode batch %d: %.1f tokens/s (%d new tokens per sequence after a %d-token prompt)%n",
                    BATCH_SIZES[i], result.tokensPerSecond()[i], newTokens, PROMPT_TOKENS);
        }
        out.printf("memory: peak RSS %.0f MiB; after load RSS %.0f MiB with Java heap %.0f MiB in use of %.0f MiB "
                        + "committed, so native memory (tensors, KV cache, libtorch) is at most %.0f MiB%n",
                result.peakRssBytes() / 1048576.0, result.rssAfterLoadBytes() / 1048576.0,
                result.heapUsedAfterLoadBytes() / 1048576.0, result.heapCommittedAfterLoadBytes() / 1048576.0,
                (result.rssAfterLoadBytes() - result.heapUsedAfterLoadBytes()) / 1048576.0);
        out.printf("PyTorch threads: %s%n", System.getProperty("ai.djl.pytorch.num_threads", "default"));
    }

    private static long numel(long[] shape) {
        long count = 1;
        for (long dimension : shape) {
            count *= dimension;
        }
        return count;
    }

    private static long folderBytes(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            long total = 0;
            for (Path file : files.toList()) {
                total += Files.size(file);
            }
            return total;
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
