package dev.treepo.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;

import dev.treepo.model.tensor.HostTensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

class AdamWTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDArray parameter(float... values) {
        NDArray param = manager.create(values, new Shape(values.length));
        param.setRequiresGradient(true);
        return param;
    }

    /** Sets each parameter's gradient to the given values by differentiating sum(p * g). */
    private static void setGradients(SortedMap<String, NDArray> params, Map<String, float[]> gradients) {
        AdamW.zeroGradients(params);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (Map.Entry<String, NDArray> entry : params.entrySet()) {
                NDArray param = entry.getValue();
                NDArray g = param.getManager().create(gradients.get(entry.getKey()), param.getShape());
                NDArray term = param.mul(g).sum();
                loss = loss == null ? term : loss.add(term);
            }
            collector.backward(loss);
        }
    }

    @Test
    void twoStepsOnScalarMatchHandComputation() {
        double lr = 0.1;
        double weightDecay = 0.01;
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(1f)));
        double[] gradients = {0.5, -0.2};

        try (AdamW adam = new AdamW(lr, weightDecay, 0)) {
            double p = 1;
            double m = 0;
            double v = 0;
            for (int t = 1; t <= 2; t++) {
                double g = gradients[t - 1];
                setGradients(params, Map.of("w", new float[] {(float) g}));

                double norm = adam.step(params);

                p *= 1 - lr * weightDecay;
                m = 0.9 * m + 0.1 * g;
                v = 0.999 * v + 0.001 * g * g;
                double mHat = m / (1 - Math.pow(0.9, t));
                double denominator = Math.sqrt(v) / Math.sqrt(1 - Math.pow(0.999, t)) + 1e-8;
                p -= lr * mHat / denominator;
                assertEquals(Math.abs(g), norm, 1e-7, "gradient norm at step " + t);
                assertEquals(p, params.get("w").getFloat(), 1e-6, "parameter after step " + t);
            }
            // Written out: step 1 gives 0.999 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.899000002.
            assertEquals(2, adam.stepCount());
        }
    }

    @Test
    void firstStepValueIsExact() {
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(1f)));
        setGradients(params, Map.of("w", new float[] {0.5f}));

        try (AdamW adam = new AdamW(0.1, 0.01, 0)) {
            adam.step(params);
        }

        assertEquals(0.899000002, params.get("w").getFloat(), 1e-6);
    }

    @Test
    void resetStepMatchesFreshOptimizer() {
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(1f)));

        try (AdamW adam = new AdamW(0.1, 0.01, 0)) {
            // A small gradient leaves a small second moment behind.
            setGradients(params, Map.of("w", new float[] {0.001f}));
            adam.step(params);
            adam.reset();
            params.get("w").set(new float[] {1f});
            setGradients(params, Map.of("w", new float[] {0.5f}));
            adam.step(params);

            assertEquals(1, adam.stepCount());
        }

        // The same value as the first step of a fresh optimizer.
        assertEquals(0.899000002, params.get("w").getFloat(), 1e-6);
    }

    @Test
    void clipsGlobalGradientNorm() {
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("a", parameter(0f), "b", parameter(0f)));
        setGradients(params, Map.of("a", new float[] {3f}, "b", new float[] {4f}));

        try (AdamW adam = new AdamW(0.01, 0, 1.0)) {
            double norm = adam.step(params);

            assertEquals(5, norm, 1e-6);
            SortedMap<String, HostTensor> state = adam.exportState();
            // exp_avg = (1 - beta1) * g * maxNorm / (norm + 1e-6)
            assertEquals(0.1 * 3 / (5 + 1e-6), state.get("exp_avg.a").data()[0], 1e-7);
            assertEquals(0.1 * 4 / (5 + 1e-6), state.get("exp_avg.b").data()[0], 1e-7);
        }
    }

    @Test
    void skipsNonFiniteGradients() {
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(2f, 3f)));
        setGradients(params, Map.of("w", new float[] {Float.NaN, 1f}));

        try (AdamW adam = new AdamW(0.1, 0.1, 1.0)) {
            double norm = adam.step(params);

            assertTrue(Double.isNaN(norm));
            assertArrayEquals(new float[] {2f, 3f}, params.get("w").toFloatArray());
            assertEquals(0, adam.stepCount());
        }
    }

    @Test
    void stepWorksOnThreadWithGradModeOn() throws Exception {
        // libtorch enables grad mode on every new thread; an in-place update of a parameter that
        // requires gradients fails unless the optimizer turns it off.
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(1f)));
        setGradients(params, Map.of("w", new float[] {0.5f}));
        Throwable[] failure = new Throwable[1];

        try (AdamW adam = new AdamW(0.1, 0.01, 0)) {
            Thread worker = new Thread(() -> {
                try {
                    adam.step(params);
                } catch (Throwable e) {
                    failure[0] = e;
                }
            });
            worker.start();
            worker.join();
        }

        assertEquals(null, failure[0]);
        assertEquals(0.899000002, params.get("w").getFloat(), 1e-6);
    }

    @Test
    void zeroGradientsClearsAccumulation() {
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(1f, 2f)));
        setGradients(params, Map.of("w", new float[] {Float.NaN, 5f}));

        AdamW.zeroGradients(params);

        assertArrayEquals(new float[] {0f, 0f}, params.get("w").getGradient().toFloatArray());
    }

    @Test
    void exportedStateResumesIdentically() {
        SortedMap<String, NDArray> first = new TreeMap<>(Map.of("w", parameter(1f, -1f), "b", parameter(0.5f)));
        SortedMap<String, NDArray> second = new TreeMap<>(Map.of("w", parameter(1f, -1f), "b", parameter(0.5f)));
        Map<String, float[]> gradients = Map.of("w", new float[] {0.3f, -0.7f}, "b", new float[] {0.1f});

        try (AdamW original = new AdamW(0.05, 0.1, 0); AdamW resumed = new AdamW(0.05, 0.1, 0)) {
            for (int t = 0; t < 2; t++) {
                setGradients(first, gradients);
                original.step(first);
                setGradients(second, gradients);
                resumed.step(second);
            }
            SortedMap<String, HostTensor> state = original.exportState();
            assertEquals(5, state.size(), "two moments per parameter plus the step");
            assertEquals(2f, state.get(AdamW.STEP_KEY).data()[0]);

            try (AdamW restored = new AdamW(0.05, 0.1, 0)) {
                restored.importState(state, second);
                setGradients(first, gradients);
                original.step(first);
                setGradients(second, gradients);
                restored.step(second);

                assertEquals(3, restored.stepCount());
                assertArrayEquals(first.get("w").toFloatArray(), second.get("w").toFloatArray(), 1e-7f);
                assertArrayEquals(first.get("b").toFloatArray(), second.get("b").toFloatArray(), 1e-7f);
            }
        }
    }

    @Test
    void importRejectsMismatchedState() {
        SortedMap<String, NDArray> params = new TreeMap<>(Map.of("w", parameter(1f, 2f)));
        HostTensor step = new HostTensor(new long[0], new float[] {1});
        HostTensor wrongShape = HostTensor.zeros(3);
        HostTensor rightShape = HostTensor.zeros(2);

        try (AdamW adam = new AdamW(0.1, 0, 0)) {
            assertThrows(IllegalArgumentException.class, () -> adam.importState(
                    Map.of("exp_avg.w", rightShape, "exp_avg_sq.w", rightShape), params));
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> adam.importState(
                    Map.of("step", step, "exp_avg.w", wrongShape, "exp_avg_sq.w", rightShape), params));
            assertTrue(shape.getMessage().contains("exp_avg.w"), shape.getMessage());
            IllegalArgumentException extra = assertThrows(IllegalArgumentException.class, () -> adam.importState(
                    Map.of("step", step, "exp_avg.w", rightShape, "exp_avg_sq.w", rightShape,
                            "exp_avg.gone", rightShape), params));
            assertTrue(extra.getMessage().contains("exp_avg.gone"), extra.getMessage());
        }
    }

    @Test
    void rejectsInvalidSettings() {
        assertThrows(IllegalArgumentException.class, () -> new AdamW(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.1, 1.0, 0.999, 1e-8, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.1, 0.9, 0.999, 0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.1, -0.1, 0));
    }
}
