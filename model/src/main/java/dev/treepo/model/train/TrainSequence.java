package dev.treepo.model.train;

import java.util.Arrays;

/**
 * One prompt and response as the trainer consumes it.
 *
 * @param tokens prompt ids followed by response ids
 * @param promptLength number of prompt ids at the start of {@code tokens}; at least 1, so the first
 *     response token has a context, and below {@code tokens.length}, so there is a response
 * @param lossMask weight per response token (tokens.length - promptLength values, 1 = trained,
 *     0 = ignored, for example a tool output), or null for all ones
 * @param advantage advantage of the whole response, applied to each of its tokens; ignored by SFT
 */
public record TrainSequence(int[] tokens, int promptLength, float[] lossMask, float advantage) {

    public TrainSequence {
        if (tokens == null || tokens.length < 2) {
            throw new IllegalArgumentException("Invalid sequence: expected at least one prompt and one response token, got "
                    + (tokens == null ? "null" : tokens.length + " tokens"));
        }
        if (promptLength < 1 || promptLength >= tokens.length) {
            throw new IllegalArgumentException("Invalid promptLength " + promptLength + " for " + tokens.length
                    + " tokens: expected a value in [1, " + (tokens.length - 1) + "].");
        }
        int responseLength = tokens.length - promptLength;
        if (lossMask != null && lossMask.length != responseLength) {
            throw new IllegalArgumentException("Invalid lossMask length " + lossMask.length
                    + ": expected one weight per response token, " + responseLength + ".");
        }
        if (!Float.isFinite(advantage)) {
            throw new IllegalArgumentException("Invalid advantage " + advantage + ": expected a finite value.");
        }
    }

    /** Creates a sequence with every response token trained. */
    public static TrainSequence of(int[] tokens, int promptLength, float advantage) {
        return new TrainSequence(tokens, promptLength, null, advantage);
    }

    public int responseLength() {
        return tokens.length - promptLength;
    }

    /** Returns the loss weight of response token {@code index} (0 = first response token). */
    public float lossWeight(int index) {
        return lossMask == null ? 1f : lossMask[index];
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TrainSequence sequence
                && promptLength == sequence.promptLength
                && Float.compare(advantage, sequence.advantage) == 0
                && Arrays.equals(tokens, sequence.tokens)
                && Arrays.equals(lossMask, sequence.lossMask);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(tokens) + Arrays.hashCode(lossMask)) + promptLength;
    }

    @Override
    public String toString() {
        return "TrainSequence[tokens=" + tokens.length + ", promptLength=" + promptLength
                + ", advantage=" + advantage + "]";
    }
}
