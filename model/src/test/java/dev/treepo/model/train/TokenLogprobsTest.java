package dev.treepo.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

class TokenLogprobsTest {

    private static final int B = 2;
    private static final int T = 3;
    private static final int V = 5;

    private NDManager manager;
    private float[] logitValues;
    private long[] targetValues;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
        SplittableRandom random = new SplittableRandom(3);
        logitValues = new float[B * T * V];
        for (int i = 0; i < logitValues.length; i++) {
            logitValues[i] = (float) (random.nextGaussian() * 4);
        }
        targetValues = new long[B * T];
        for (int i = 0; i < targetValues.length; i++) {
            targetValues[i] = random.nextInt(V);
        }
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private double logSumExp(int row) {
        double max = Double.NEGATIVE_INFINITY;
        for (int v = 0; v < V; v++) {
            max = Math.max(max, logitValues[row * V + v]);
        }
        double sum = 0;
        for (int v = 0; v < V; v++) {
            sum += Math.exp(logitValues[row * V + v] - max);
        }
        return max + Math.log(sum);
    }

    @Test
    void matchesLogSoftmaxOfTargets() {
        NDArray logits = manager.create(logitValues, new Shape(B, T, V));
        NDArray targets = manager.create(targetValues, new Shape(B, T));

        NDArray logprobs = TokenLogprobs.of(logits, targets);

        assertEquals(new Shape(B, T), logprobs.getShape());
        float[] actual = logprobs.toFloatArray();
        for (int row = 0; row < B * T; row++) {
            double expected = logitValues[row * V + (int) targetValues[row]] - logSumExp(row);
            assertEquals(expected, actual[row], 1e-5, "row " + row);
        }
    }

    @Test
    void acceptsInt32Targets() {
        NDArray logits = manager.create(logitValues, new Shape(B, T, V));
        int[] narrow = new int[targetValues.length];
        for (int i = 0; i < narrow.length; i++) {
            narrow[i] = (int) targetValues[i];
        }

        NDArray fromInt32 = TokenLogprobs.of(logits, manager.create(narrow, new Shape(B, T)));
        NDArray fromInt64 = TokenLogprobs.of(logits, manager.create(targetValues, new Shape(B, T)));

        assertArrayEquals(fromInt64.toFloatArray(), fromInt32.toFloatArray());
    }

    @Test
    void stableForLargeLogits() {
        NDArray logits = manager.create(new float[] {1000f, 0f, -1000f}, new Shape(1, 1, 3));

        float[] logprobs = TokenLogprobs.of(logits, manager.create(new long[] {0}, new Shape(1, 1))).toFloatArray();
        float[] tail = TokenLogprobs.of(logits, manager.create(new long[] {2}, new Shape(1, 1))).toFloatArray();

        assertEquals(0, logprobs[0], 1e-6);
        assertEquals(-2000, tail[0], 1e-3);
    }

    @Test
    void gradientIsOneHotMinusSoftmax() {
        NDArray logits = manager.create(logitValues, new Shape(B, T, V));
        logits.setRequiresGradient(true);
        NDArray targets = manager.create(targetValues, new Shape(B, T));

        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(TokenLogprobs.of(logits, targets).sum());
        }

        float[] gradient = logits.getGradient().toFloatArray();
        for (int row = 0; row < B * T; row++) {
            double logZ = logSumExp(row);
            for (int v = 0; v < V; v++) {
                double expected = (v == targetValues[row] ? 1 : 0) - Math.exp(logitValues[row * V + v] - logZ);
                assertEquals(expected, gradient[row * V + v], 1e-5, "row " + row + " id " + v);
            }
        }
    }

    @Test
    void rejectsMismatchedShapes() {
        NDArray logits = manager.zeros(new Shape(B, T, V));

        assertThrows(IllegalArgumentException.class,
                () -> TokenLogprobs.of(logits, manager.zeros(new Shape(B, T + 1))));
        assertThrows(IllegalArgumentException.class,
                () -> TokenLogprobs.of(manager.zeros(new Shape(B, T)), manager.zeros(new Shape(B, T))));
    }
}
