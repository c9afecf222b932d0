package dev.treepo.model.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Model;
import dev.treepo.model.nn.Qwen2Weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Random;

/**
 * Timings of the tiny preset, logged rather than asserted because they depend on the machine.
 * Run with {@code -Dtreepo.benchmark=true}.
 */
@EnabledIfSystemProperty(named = "treepo.benchmark", matches = "true")
class DecodeEngineBenchmarkTest {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeEngineBenchmarkTest.class);
    private static final Qwen2Config CONFIG = Qwen2Config.tiny(128);
    private static final int CONTEXT = 100;
    private static final int STEPS = 30;

    @Test
    void decodeStepTimes() {
        Random random = new Random(1);
        try (NDManager manager = NDManager.newBaseManager();
                Qwen2Weights weights = Qwen2Weights.random(CONFIG, manager, 1)) {
            // The first pass only warms up the JIT, and the second pass is logged.
            for (int pass = 0; pass < 2; pass++) {
                for (boolean shared : new boolean[] {false, true}) {
                    for (int batch : new int[] {1, 8, 64}) {
                        double[] times = measureDecode(weights, batch, shared, random);
                        if (pass == 1) {
                            LOG.info("decode batch {} ({} prefix): prefill {} ms, {} ms per step",
                                    batch, shared ? "shared" : "separate",
                                    String.format("%.1f", times[0]),
                                    String.format("%.2f", times[1]));
                        }
                    }
                }
            }
        }
    }

    /**
     * Prefills {@code batch} sequences of {@value CONTEXT} tokens, either separate prompts or
     * forks of one 96-token prompt with 4 tokens each, then decodes. Returns the prefill time and
     * the mean time per decode step, in milliseconds.
     */
    private static double[] measureDecode(Qwen2Weights weights, int batch, boolean shared,
            Random random) {
        try (DecodeEngine engine = new DecodeEngine(CONFIG, Device.cpu(), 16, 1024)) {
            engine.loadWeights(weights.toHost());
            int[] seqs = new int[batch];
            if (shared) {
                int root = engine.newSequence(tokens(random, CONTEXT - 4));
                engine.step(new int[] {root});
                for (int b = 0; b < batch; b++) {
                    seqs[b] = engine.forkAt(root, CONTEXT - 4);
                    engine.append(seqs[b], tokens(random, 4));
                }
            } else {
                for (int b = 0; b < batch; b++) {
                    seqs[b] = engine.newSequence(tokens(random, CONTEXT));
                }
            }
            long prefillStart = System.nanoTime();
            engine.step(seqs);
            double prefillMs = (System.nanoTime() - prefillStart) / 1e6;
            for (int warmup = 0; warmup < 5; warmup++) {
                decodeOnce(engine, seqs, random);
            }
            long start = System.nanoTime();
            for (int step = 0; step < STEPS; step++) {
                decodeOnce(engine, seqs, random);
            }
            return new double[] {prefillMs, (System.nanoTime() - start) / 1e6 / STEPS};
        }
    }

    @Test
    void forwardTime() {
        try (NDManager manager = NDManager.newBaseManager();
                Qwen2Weights weights = Qwen2Weights.random(CONFIG, manager, 1)) {
            Qwen2Model model = new Qwen2Model(CONFIG, weights);
            long[] ids = new long[32 * 64];
            Random random = new Random(2);
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(CONFIG.vocabSize());
            }
            double totalMs = 0;
            for (int run = 0; run < 13; run++) {
                try (NDManager local = manager.newSubManager()) {
                    long start = System.nanoTime();
                    model.forward(local.create(ids, new Shape(32, 64))).toFloatArray();
                    if (run >= 3) {
                        totalMs += (System.nanoTime() - start) / 1e6;
                    }
                }
            }
            LOG.info("forward (32, 64): {} ms", String.format("%.1f", totalMs / 10));
        }
    }

    private static void decodeOnce(DecodeEngine engine, int[] seqs, Random random) {
        for (int seq : seqs) {
            engine.append(seq, new int[] {random.nextInt(CONFIG.vocabSize())});
        }
        engine.step(seqs);
    }

    private static int[] tokens(Random random, int count) {
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = random.nextInt(CONFIG.vocabSize());
        }
        return tokens;
    }
}
