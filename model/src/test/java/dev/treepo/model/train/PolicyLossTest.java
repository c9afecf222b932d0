package dev.treepo.model.train;

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

class PolicyLossTest {

    private static final float OLD_LOGPROB = -1f;

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDArray row(float... values) {
        return manager.create(values, new Shape(1, values.length));
    }

    /** Returns log-probabilities whose ratio to OLD_LOGPROB is the given ratio, requiring gradient. */
    private NDArray logprobsOfRatios(double... ratios) {
        float[] values = new float[ratios.length];
        for (int i = 0; i < ratios.length; i++) {
            values[i] = (float) (Math.log(ratios[i]) + OLD_LOGPROB);
        }
        NDArray logprobs = row(values);
        logprobs.setRequiresGradient(true);
        return logprobs;
    }

    private NDArray constant(int length, float value) {
        float[] values = new float[length];
        java.util.Arrays.fill(values, value);
        return row(values);
    }

    @Test
    void clippedSurrogateMatchesHandValues() {
        // Token cases: inside the clip; above 1 + 0.28; below 1 - 0.2 with A > 0 (unclipped);
        // below 1 - 0.2 with A < 0 (clipped); A < 0 with ratio 20 (dual clip caps at 10);
        // A = -2 with ratio 1.5 (unclipped, under the dual cap); a masked token with a huge ratio.
        NDArray logprobs = logprobsOfRatios(1.1, 1.5, 0.5, 0.5, 20, 1.5, 1e30);
        NDArray advantages = row(1, 1, 1, -1, -1, -2, 5);
        NDArray mask = row(1, 1, 1, 1, 1, 1, 0);

        PolicyLossResult result;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            result = PolicyLoss.defaults().compute(logprobs, constant(7, OLD_LOGPROB), advantages, mask, null);
            collector.backward(result.loss());
        }

        double[] perToken = {-1.1, -1.28, -0.5, 0.8, 10, 3};
        double expectedLoss = java.util.Arrays.stream(perToken).sum() / 6;
        assertEquals(expectedLoss, result.loss().getFloat(), 1e-5);
        assertEquals(2.0 / 6, result.clipFraction(), 1e-9, "clip fraction");
        assertEquals(1.0 / 6, result.dualClipFraction(), 1e-9, "dual-clip fraction");
        assertEquals(6, result.tokens(), 0);
        double expectedKl = -(Math.log(1.1) + Math.log(1.5) + 2 * Math.log(0.5) + Math.log(20) + Math.log(1.5)) / 6;
        assertEquals(expectedKl, result.approxKl(), 1e-5, "approximate KL");
        assertEquals(0, result.referenceKl(), 0);

        // d loss / d logp = (-A * r) / 6 where the unclipped term is active, 0 where clipped.
        float[] gradient = logprobs.getGradient().toFloatArray();
        double[] expectedGradient = {-1.1 / 6, 0, -0.5 / 6, 0, 0, 3.0 / 6, 0};
        for (int i = 0; i < expectedGradient.length; i++) {
            assertEquals(expectedGradient[i], gradient[i], 1e-5, "gradient of token " + i);
        }
    }

    @Test
    void symmetricClipChangesUpperBound() {
        NDArray logprobs = logprobsOfRatios(1.25);
        PolicyLoss symmetric = new PolicyLoss(0.2, 0.2, 10, 0);

        PolicyLossResult result = symmetric.compute(
                logprobs, constant(1, OLD_LOGPROB), row(1), row(1), null);

        assertEquals(-1.2, result.loss().getFloat(), 1e-5);
        assertEquals(1, result.clipFraction(), 1e-9);
    }

    @Test
    void referenceKlUsesK3Estimator() {
        NDArray logprobs = logprobsOfRatios(1, 1);
        NDArray reference = row(OLD_LOGPROB + 0.5f, OLD_LOGPROB - 0.3f);
        double k3First = Math.exp(0.5) - 0.5 - 1;
        double k3Second = Math.exp(-0.3) + 0.3 - 1;
        double meanK3 = (k3First + k3Second) / 2;

        PolicyLossResult withKl = new PolicyLoss(0.2, 0.28, 10, 0.1)
                .compute(logprobs, constant(2, OLD_LOGPROB), row(0, 0), row(1, 1), reference);
        PolicyLossResult reportOnly = PolicyLoss.defaults()
                .compute(logprobs, constant(2, OLD_LOGPROB), row(0, 0), row(1, 1), reference);

        assertEquals(0.1 * meanK3, withKl.loss().getFloat(), 1e-6);
        assertEquals(meanK3, withKl.referenceKl(), 1e-6);
        assertEquals(0, reportOnly.loss().getFloat(), 1e-7);
        assertEquals(meanK3, reportOnly.referenceKl(), 1e-6);
    }

    @Test
    void fractionalMaskWeightsTokens() {
        NDArray logprobs = logprobsOfRatios(1, 1);

        PolicyLossResult result = PolicyLoss.defaults()
                .compute(logprobs, constant(2, OLD_LOGPROB), row(2, 4), row(1, 0.5f), null);

        assertEquals(-(2 * 1 + 4 * 0.5) / 1.5, result.loss().getFloat(), 1e-5);
        assertEquals(1.5, result.tokens(), 1e-9);
    }

    @Test
    void emptyMaskGivesZeroLoss() {
        NDArray logprobs = logprobsOfRatios(3, 0.1);

        PolicyLossResult result = PolicyLoss.defaults()
                .compute(logprobs, constant(2, OLD_LOGPROB), row(1, -1), row(0, 0), null);

        assertEquals(0, result.loss().getFloat(), 0);
        assertEquals(0, result.tokens(), 0);
        assertEquals(0, result.clipFraction(), 0);
    }

    @Test
    void rejectsInvalidInput() {
        NDArray logprobs = logprobsOfRatios(1, 1);
        NDArray old = constant(2, OLD_LOGPROB);

        assertThrows(IllegalArgumentException.class,
                () -> PolicyLoss.defaults().compute(logprobs, constant(3, 0), row(1, 1), row(1, 1), null));
        assertThrows(IllegalArgumentException.class,
                () -> new PolicyLoss(0.2, 0.28, 10, 0.1).compute(logprobs, old, row(1, 1), row(1, 1), null));
        assertThrows(IllegalArgumentException.class, () -> new PolicyLoss(1, 0.28, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new PolicyLoss(0.2, -0.1, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new PolicyLoss(0.2, 0.28, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new PolicyLoss(0.2, 0.28, 10, -1));
    }
}
