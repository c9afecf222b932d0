package dev.treepo.model.sampling;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Draws one token from a logit vector with temperature, top-k and top-p (nucleus) truncation.
 *
 * <p>Only ids below {@code validVocab} are candidates, so padded embedding rows beyond the
 * tokenizer's vocabulary are never drawn. The returned log-probability is that of the drawn token
 * under softmax(logits / temperature) over the valid ids, computed <em>before</em> top-k and top-p
 * truncation. Greedy decoding reports it at temperature 1. Top-k is applied first, and top-p then
 * works on the renormalized top-k mass, as vLLM's {@code apply_top_k_top_p} does.
 *
 * <p>The draw consumes exactly one {@code nextDouble()} of the generator (none for greedy), so a
 * seeded generator reproduces the same tokens. Ties in probability are ordered by lower id.
 * The methods are stateless and thread-safe.
 */
public final class Sampler {

    private Sampler() {}

    /**
     * Draws one token.
     *
     * @param logits unnormalized scores; at least {@code validVocab} long
     * @param validVocab number of valid ids, in [1, logits.length]
     * @throws IllegalArgumentException if validVocab is out of range, or a valid logit is NaN or
     *     +infinity, or every valid logit is -infinity
     */
    public static SampledToken sample(float[] logits, int validVocab, SamplingParams params, RandomGenerator rng) {
        float maxLogit = checkedMaxLogit(logits, validVocab);
        if (params.isGreedy()) {
            return greedy(logits, validVocab, maxLogit);
        }

        // weights[i] = exp((logit - max) / T), so the largest weight is 1 and nothing overflows.
        double inverseTemperature = 1.0 / params.temperature();
        double[] weights = new double[validVocab];
        double total = 0;
        for (int i = 0; i < validVocab; i++) {
            weights[i] = Math.exp((logits[i] - maxLogit) * inverseTemperature);
            total += weights[i];
        }

        int id;
        boolean truncates = (params.topK() > 0 && params.topK() < validVocab) || params.topP() < 1;
        if (truncates) {
            boolean topKActive = params.topK() > 0 && params.topK() < validVocab;
            long[] ranked = topKActive
                    ? selectTopK(logits, weights, params.topK())
                    : prefilterNucleus(logits, weights, total, params.topP());
            // Top-p measures the top-k mass when top-k is on, otherwise the whole mass.
            double baseMass = topKActive ? massOf(ranked, weights) : total;
            id = drawFromRanked(ranked, weights, baseMass, params.topP(), rng);
        } else {
            id = drawFromAll(weights, total, rng);
        }

        double logprob = (logits[id] - maxLogit) * inverseTemperature - Math.log(total);
        return new SampledToken(id, (float) logprob);
    }

    /** Returns the argmax among the valid ids (lowest id on ties) with its temperature-1 logprob. */
    private static SampledToken greedy(float[] logits, int validVocab, float maxLogit) {
        int best = -1;
        double total = 0;
        for (int i = 0; i < validVocab; i++) {
            if (best < 0 && logits[i] == maxLogit) {
                best = i;
            }
            total += Math.exp(logits[i] - maxLogit);
        }
        return new SampledToken(best, (float) -Math.log(total));
    }

    private static float checkedMaxLogit(float[] logits, int validVocab) {
        if (validVocab < 1 || validVocab > logits.length) {
            throw new IllegalArgumentException("Invalid validVocab " + validVocab + ": expected a value in [1, "
                    + logits.length + "] for " + logits.length + " logits.");
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < validVocab; i++) {
            float logit = logits[i];
            if (Float.isNaN(logit) || logit == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("Invalid logit " + logit + " at id " + i
                        + ": logits must be finite or -infinity; check the model output for overflow.");
            }
            max = Math.max(max, logit);
        }
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException(
                    "All " + validVocab + " valid logits are -infinity, so no token can be drawn.");
        }
        return max;
    }

    /** Draws an id in proportion to its weight, walking the ids in order. */
    private static int drawFromAll(double[] weights, double total, RandomGenerator rng) {
        double target = rng.nextDouble() * total;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] > 0) {
                last = i;
                cumulative += weights[i];
                if (target < cumulative) {
                    return i;
                }
            }
        }
        // Rounding can leave the target just above the summed mass: take the last positive weight.
        return last;
    }

    /** Returns the keys of the ids that may be in the top-p nucleus, most probable first. */
    private static long[] prefilterNucleus(float[] logits, double[] weights, double total, double topP) {
        int validVocab = weights.length;
        // A token whose probability is below (1 - topP) / V is never in the nucleus: the tokens
        // ranked before it hold more than 1 - V * p > topP of the mass. Dropping those before the
        // sort keeps the sort small for peaked distributions over large vocabularies.
        double threshold = total * (1 - topP) / validVocab;
        long[] keys = new long[validVocab];
        int count = 0;
        for (int i = 0; i < validVocab; i++) {
            if (weights[i] > 0 && weights[i] >= threshold) {
                keys[count++] = rankKey(logits[i], i);
            }
        }
        long[] candidates = Arrays.copyOf(keys, count);
        Arrays.sort(candidates);
        return candidates;
    }

    /** Returns the keys of the k most probable ids, most probable first. */
    private static long[] selectTopK(float[] logits, double[] weights, int k) {
        // Max-heap on the key, so the root is the least probable of the ids kept so far.
        long[] heap = new long[k];
        int size = 0;
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] <= 0) {
                continue;
            }
            long key = rankKey(logits[i], i);
            if (size < k) {
                heap[size] = key;
                siftUp(heap, size);
                size++;
            } else if (key < heap[0]) {
                heap[0] = key;
                siftDown(heap, size);
            }
        }
        long[] topK = Arrays.copyOf(heap, size);
        Arrays.sort(topK);
        return topK;
    }

    /**
     * Keeps the shortest prefix of the ranked ids whose mass reaches topP of baseMass (the id that
     * crosses topP is kept), then draws from that prefix in proportion to weight.
     */
    private static int drawFromRanked(
            long[] ranked, double[] weights, double baseMass, double topP, RandomGenerator rng) {
        int keep = ranked.length;
        if (topP < 1) {
            double cumulative = 0;
            for (int j = 0; j < ranked.length; j++) {
                cumulative += weights[idOf(ranked[j])];
                if (cumulative >= topP * baseMass) {
                    keep = j + 1;
                    break;
                }
            }
        }

        double keptMass = 0;
        for (int j = 0; j < keep; j++) {
            keptMass += weights[idOf(ranked[j])];
        }
        double target = rng.nextDouble() * keptMass;
        double cumulative = 0;
        for (int j = 0; j < keep; j++) {
            cumulative += weights[idOf(ranked[j])];
            if (target < cumulative) {
                return idOf(ranked[j]);
            }
        }
        return idOf(ranked[keep - 1]);
    }

    private static double massOf(long[] ranked, double[] weights) {
        double mass = 0;
        for (long key : ranked) {
            mass += weights[idOf(key)];
        }
        return mass;
    }

    /**
     * Packs a logit and its id into a long whose ascending order is descending logit, then
     * ascending id. The high half is the logit's bits remapped so that signed integer order
     * matches float order, then complemented.
     */
    private static long rankKey(float logit, int id) {
        int bits = Float.floatToIntBits(logit);
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return ((long) ~sortable << 32) | id;
    }

    private static int idOf(long key) {
        return (int) (key & 0xFFFFFFFFL);
    }

    private static void siftUp(long[] heap, int index) {
        while (index > 0) {
            int parent = (index - 1) / 2;
            if (heap[parent] >= heap[index]) {
                return;
            }
            swap(heap, parent, index);
            index = parent;
        }
    }

    private static void siftDown(long[] heap, int size) {
        int index = 0;
        while (true) {
            int left = 2 * index + 1;
            int right = left + 1;
            int largest = index;
            if (left < size && heap[left] > heap[largest]) {
                largest = left;
            }
            if (right < size && heap[right] > heap[largest]) {
                largest = right;
            }
            if (largest == index) {
                return;
            }
            swap(heap, index, largest);
            index = largest;
        }
    }

    private static void swap(long[] heap, int a, int b) {
        long tmp = heap[a];
        heap[a] = heap[b];
        heap[b] = tmp;
    }
}
