package dev.treepo.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.testing.ReferenceCheckpoint;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Map;

class Qwen2ModelTest {

    private static final Logger LOG = LoggerFactory.getLogger(Qwen2ModelTest.class);
    private static final float TOLERANCE = 1e-4f;

    private static NDManager manager;

    @BeforeAll
    static void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        manager.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tied-f32", "untied-mqa-f32", "tied-bf16"})
    void forwardMatchesReferenceLogits(String name) throws IOException {
        ReferenceCheckpoint reference = ReferenceCheckpoint.load(name);
        try (NDManager local = manager.newSubManager();
                Qwen2Weights weights = Qwen2Weights.load(reference.dir(), local)) {
            Qwen2Model model = new Qwen2Model(weights.config(), weights);
            float maxError = 0;
            for (int i = 0; i < reference.sequences().length; i++) {
                int[] sequence = reference.sequences()[i];
                NDArray ids = local.create(toLongs(sequence), new Shape(1, sequence.length));
                float[] logits = model.forward(ids).toFloatArray();
                int vocab = weights.config().vocabSize();
                assertEquals(sequence.length * vocab, logits.length, "logit count");
                for (int t = 0; t < sequence.length; t++) {
                    for (int v = 0; v < vocab; v++) {
                        float error = Math.abs(logits[t * vocab + v] - reference.logits()[i][t][v]);
                        maxError = Math.max(maxError, error);
                    }
                }
            }
            LOG.info("{}: max logit error {}", name, maxError);
            assertTrue(maxError <= TOLERANCE, name + ": max logit error " + maxError);
        }
    }

    @Test
    void forwardBatchEqualsRowsWithRightPadding() throws IOException {
        ReferenceCheckpoint reference = ReferenceCheckpoint.load("tied-f32");
        try (NDManager local = manager.newSubManager();
                Qwen2Weights weights = Qwen2Weights.load(reference.dir(), local)) {
            Qwen2Model model = new Qwen2Model(weights.config(), weights);
            int[] shorter = reference.sequences()[2]; // 13 tokens
            int[] longer = reference.sequences()[3]; // 32 tokens
            long[] batch = new long[2 * longer.length];
            for (int t = 0; t < longer.length; t++) {
                batch[t] = t < shorter.length ? shorter[t] : 0;
                batch[longer.length + t] = longer[t];
            }
            int vocab = weights.config().vocabSize();
            float[] logits = model.forward(local.create(batch, new Shape(2, longer.length)))
                    .toFloatArray();
            for (int t = 0; t < shorter.length; t++) {
                for (int v = 0; v < vocab; v++) {
                    assertEquals(reference.logits()[2][t][v], logits[t * vocab + v], TOLERANCE,
                            "padded row, position " + t);
                }
            }
            int offset = longer.length * vocab;
            for (int t = 0; t < longer.length; t++) {
                for (int v = 0; v < vocab; v++) {
                    assertEquals(reference.logits()[3][t][v], logits[offset + t * vocab + v],
                            TOLERANCE, "full row, position " + t);
                }
            }
        }
    }

    @Test
    void gradientsReachEveryParameter() {
        Qwen2Config config = new Qwen2Config(40, 32, 64, 2, 4, 2, 10000.0, 1e-6, 64, false, -1, -1);
        try (NDManager local = manager.newSubManager();
                Qwen2Weights weights = Qwen2Weights.random(config, local, 3)) {
            for (NDArray parameter : weights.parameters().values()) {
                parameter.setRequiresGradient(true);
            }
            Qwen2Model model = new Qwen2Model(config, weights);
            long[] ids = {1, 5, 9, 13, 2, 7, 3, 30, 31, 4, 8, 0};
            try (NDManager step = local.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forward(step.create(ids, new Shape(2, 6)));
                // Log-softmax of the logits, so every path (norms, attention, LM head) matters.
                NDArray loss = logits.logSoftmax(2).get(":, :, 3").mean().neg();
                collector.backward(loss);
            }
            for (Map.Entry<String, NDArray> entry : weights.parameters().entrySet()) {
                NDArray gradient = entry.getValue().getGradient();
                assertNotNull(gradient, entry.getKey());
                float[] values = gradient.toFloatArray();
                double norm = 0;
                for (float value : values) {
                    assertTrue(Float.isFinite(value), entry.getKey() + " has a non-finite gradient");
                    norm += value * value;
                }
                assertTrue(norm > 0, entry.getKey() + " has an all-zero gradient");
            }
        }
    }

    static long[] toLongs(int[] values) {
        long[] result = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            result[i] = values[i];
        }
        return result;
    }
}
