package dev.treepo.model.sampling;

/**
 * Settings for drawing one token from a logit vector.
 *
 * @param temperature divisor of the logits; 0 selects greedy decoding (argmax)
 * @param topP nucleus size: keep the most probable tokens until their probability mass reaches
 *     topP, in (0, 1]; 1 keeps every token
 * @param topK keep only the topK most probable tokens; 0 turns the filter off
 */
public record SamplingParams(double temperature, double topP, int topK) {

    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException(
                    "Invalid temperature " + temperature + ": expected a finite value >= 0 (0 means greedy).");
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("Invalid topP " + topP + ": expected a value in (0, 1] (1 turns it off).");
        }
        if (topK < 0) {
            throw new IllegalArgumentException("Invalid topK " + topK + ": expected a value >= 0 (0 turns it off).");
        }
    }

    /** Returns greedy decoding: always the most probable valid token. */
    public static SamplingParams greedy() {
        return new SamplingParams(0, 1, 0);
    }

    /** Returns plain sampling from softmax(logits / temperature) without truncation. */
    public static SamplingParams ofTemperature(double temperature) {
        return new SamplingParams(temperature, 1, 0);
    }

    /** Returns whether this selects the argmax instead of drawing at random. */
    public boolean isGreedy() {
        return temperature == 0;
    }
}
