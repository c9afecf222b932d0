package dev.treepo.model.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

class SamplerTest {

    private static float[] logitsOfProbabilities(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < probabilities.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    private static int[] countDraws(float[] logits, int validVocab, SamplingParams params, int draws, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] counts = new int[logits.length];
        for (int n = 0; n < draws; n++) {
            counts[Sampler.sample(logits, validVocab, params, rng).id()]++;
        }
        return counts;
    }

    private static Set<Integer> support(int[] counts) {
        return IntStream.range(0, counts.length).filter(i -> counts[i] > 0).boxed().collect(Collectors.toSet());
    }

    @Test
    void greedyPicksArgmaxAmongValidIds() {
        float[] logits = {0.5f, 3f, -1f, 2.9f, 50f, 60f};

        SampledToken token = Sampler.sample(logits, 4, SamplingParams.greedy(), new SplittableRandom(1));

        assertEquals(1, token.id());
        double logZ = Math.log(Math.exp(0.5) + Math.exp(3) + Math.exp(-1) + Math.exp(2.9));
        assertEquals(3 - logZ, token.logprob(), 1e-6);
    }

    @Test
    void greedyBreaksTiesByLowerId() {
        float[] logits = {1f, 4f, 4f, 2f};

        assertEquals(1, Sampler.sample(logits, 4, SamplingParams.greedy(), new SplittableRandom(1)).id());
    }

    @Test
    void paddedIdsAreNeverSampled() {
        float[] logits = new float[12];
        Arrays.fill(logits, 0, 8, 0f);
        Arrays.fill(logits, 8, 12, 30f);
        SamplingParams[] settings = {
            SamplingParams.ofTemperature(1), SamplingParams.ofTemperature(5),
            new SamplingParams(1, 0.9, 0), new SamplingParams(1, 1, 6), new SamplingParams(2, 0.5, 10),
        };

        for (SamplingParams params : settings) {
            int[] counts = countDraws(logits, 8, params, 10_000, 3);

            for (int id = 8; id < 12; id++) {
                assertEquals(0, counts[id], "padded id " + id + " drawn with " + params);
            }
        }
    }

    @Test
    void topKRestrictsSupport() {
        float[] logits = {1f, 5f, 2f, 4f, 3f, 0f};

        int[] counts = countDraws(logits, 6, new SamplingParams(3, 1, 3), 5_000, 5);

        assertEquals(Set.of(1, 3, 4), support(counts));
    }

    @Test
    void topPRestrictsSupport() {
        float[] logits = logitsOfProbabilities(0.15, 0.5, 0.05, 0.3);

        assertEquals(Set.of(1), support(countDraws(logits, 4, new SamplingParams(1, 0.45, 0), 3_000, 7)));
        assertEquals(Set.of(1, 3), support(countDraws(logits, 4, new SamplingParams(1, 0.7, 0), 3_000, 7)));
        assertEquals(Set.of(0, 1, 3), support(countDraws(logits, 4, new SamplingParams(1, 0.85, 0), 3_000, 7)));
    }

    @Test
    void topPAppliesToRenormalizedTopK() {
        float[] logits = logitsOfProbabilities(0.5, 0.3, 0.15, 0.05);

        // Top-3 renormalized: 0.526, 0.316, 0.158, so the first two already exceed 0.82.
        int[] counts = countDraws(logits, 4, new SamplingParams(1, 0.82, 3), 3_000, 9);

        assertEquals(Set.of(0, 1), support(counts));
    }

    @Test
    void frequenciesMatchTemperatureSoftmax() {
        float[] logits = {1f, 2f, 0.5f, -1f, 9f};
        double temperature = 0.7;
        int draws = 40_000;

        int[] counts = countDraws(logits, 4, SamplingParams.ofTemperature(temperature), draws, 11);

        double total = 0;
        for (int i = 0; i < 4; i++) {
            total += Math.exp(logits[i] / temperature);
        }
        for (int i = 0; i < 4; i++) {
            double expected = Math.exp(logits[i] / temperature) / total;
            assertEquals(expected, counts[i] / (double) draws, 0.015, "frequency of id " + i);
        }
    }

    @Test
    void sameSeedGivesSameSequence() {
        SplittableRandom logitRandom = new SplittableRandom(0);
        float[] logits = new float[200];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) logitRandom.nextGaussian() * 2;
        }
        SamplingParams params = new SamplingParams(0.9, 0.95, 40);

        int[] first = drawSequence(logits, params, 123);
        int[] second = drawSequence(logits, params, 123);
        int[] other = drawSequence(logits, params, 124);

        assertArrayEquals(first, second);
        assertTrue(!Arrays.equals(first, other), "a different seed should give a different sequence");
    }

    private static int[] drawSequence(float[] logits, SamplingParams params, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[300];
        for (int n = 0; n < ids.length; n++) {
            ids[n] = Sampler.sample(logits, 190, params, rng).id();
        }
        return ids;
    }

    @Test
    void logprobIsBeforeTruncation() {
        float[] logits = logitsOfProbabilities(0.25, 0.75);

        SampledToken greedy = Sampler.sample(logits, 2, SamplingParams.greedy(), new SplittableRandom(1));
        SampledToken topOne = Sampler.sample(logits, 2, new SamplingParams(1, 1, 1), new SplittableRandom(1));

        assertEquals(1, greedy.id());
        assertEquals(Math.log(0.75), greedy.logprob(), 1e-6);
        assertEquals(1, topOne.id());
        assertEquals(Math.log(0.75), topOne.logprob(), 1e-6);
    }

    @Test
    void logprobUsesTemperature() {
        float[] logits = {1f, 2f, 3f};
        double logZ = Math.log(Math.exp(0.5) + Math.exp(1.0) + Math.exp(1.5));
        SplittableRandom rng = new SplittableRandom(2);

        for (int n = 0; n < 20; n++) {
            SampledToken token = Sampler.sample(logits, 3, SamplingParams.ofTemperature(2), rng);
            assertEquals(logits[token.id()] / 2.0 - logZ, token.logprob(), 1e-6, "id " + token.id());
        }
    }

    @Test
    void minusInfinityLogitsAreNeverSampled() {
        float[] logits = {Float.NEGATIVE_INFINITY, 0f, Float.NEGATIVE_INFINITY, 0f};

        int[] counts = countDraws(logits, 4, new SamplingParams(1, 0.99, 0), 2_000, 13);

        assertEquals(Set.of(1, 3), support(counts));
    }

    @Test
    void largeVocabularyStaysInNucleus() {
        int vocab = 151_936;
        SplittableRandom logitRandom = new SplittableRandom(17);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (logitRandom.nextGaussian() * 3);
        }
        double topP = 0.9;
        Set<Integer> nucleus = bruteForceNucleus(logits, topP);

        SplittableRandom rng = new SplittableRandom(19);
        Set<Integer> drawn = new HashSet<>();
        for (int n = 0; n < 300; n++) {
            int id = Sampler.sample(logits, vocab, new SamplingParams(1, topP, 0), rng).id();
            assertTrue(nucleus.contains(id), "id " + id + " is outside the nucleus");
            drawn.add(id);
        }
        assertTrue(drawn.size() > 10, "expected many distinct ids, got " + drawn.size());
    }

    private static Set<Integer> bruteForceNucleus(float[] logits, double topP) {
        Integer[] order = new Integer[logits.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> logits[a] != logits[b] ? Float.compare(logits[b], logits[a]) : Integer.compare(a, b));
        double total = 0;
        for (float logit : logits) {
            total += Math.exp(logit);
        }
        Set<Integer> nucleus = new HashSet<>();
        double cumulative = 0;
        for (Integer id : order) {
            nucleus.add(id);
            cumulative += Math.exp(logits[id]) / total;
            if (cumulative >= topP) {
                break;
            }
        }
        return nucleus;
    }

    @Test
    void rejectsInvalidInput() {
        SamplingParams params = SamplingParams.ofTemperature(1);
        SplittableRandom rng = new SplittableRandom(1);

        assertThrows(IllegalArgumentException.class, () -> Sampler.sample(new float[] {1f, 2f}, 0, params, rng));
        assertThrows(IllegalArgumentException.class, () -> Sampler.sample(new float[] {1f, 2f}, 3, params, rng));
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> Sampler.sample(new float[] {1f, Float.NaN}, 2, params, rng));
        assertTrue(nan.getMessage().contains("id 1"), nan.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Sampler.sample(new float[] {Float.NEGATIVE_INFINITY}, 1, params, rng));
    }

    @Test
    void paramsRejectInvalidValues() {
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(-0.1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Double.NaN, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(Double.POSITIVE_INFINITY, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1.01, 0));
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(1, 1, -1));
        assertTrue(SamplingParams.greedy().isGreedy());
    }
}
