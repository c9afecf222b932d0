package dev.treepo.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Sequences right-padded into one (B, W) batch for next-token prediction, on the host.
 *
 * <p>Column j of row b predicts token j + 1 from tokens 0..j, so W is the longest sequence minus
 * one. The mask is the sequence's loss weight where token j + 1 is a response token and 0 on the
 * prompt and on padding. Padding uses the pad id as input and target, so every id is valid.
 */
final class TrainBatch {

    final int rows;
    final int width;
    final long[] inputIds;
    final long[] targets;
    final float[] mask;
    final float[] advantages;
    private final int[] lengths;

    private TrainBatch(List<TrainSequence> sequences, int padId) {
        rows = sequences.size();
        int longest = 0;
        for (TrainSequence sequence : sequences) {
            longest = Math.max(longest, sequence.tokens().length);
        }
        width = longest - 1;
        inputIds = new long[rows * width];
        targets = new long[rows * width];
        mask = new float[rows * width];
        advantages = new float[rows * width];
        lengths = new int[rows];
        Arrays.fill(inputIds, padId);
        Arrays.fill(targets, padId);

        for (int b = 0; b < rows; b++) {
            TrainSequence sequence = sequences.get(b);
            int[] tokens = sequence.tokens();
            lengths[b] = tokens.length - 1;
            int offset = b * width;
            Arrays.fill(advantages, offset, offset + width, sequence.advantage());
            for (int j = 0; j < tokens.length - 1; j++) {
                inputIds[offset + j] = tokens[j];
                targets[offset + j] = tokens[j + 1];
                int responseIndex = j + 1 - sequence.promptLength();
                if (responseIndex >= 0) {
                    mask[offset + j] = sequence.lossWeight(responseIndex);
                }
            }
        }
    }

    /**
     * Builds the batch.
     *
     * @throws IllegalArgumentException if the list is empty or a token id is outside [0, vocabSize)
     */
    static TrainBatch of(List<TrainSequence> sequences, int padId, int vocabSize) {
        validate(sequences, vocabSize);
        return new TrainBatch(sequences, padId);
    }

    /**
     * Checks that the list is not empty and that every token id is in [0, vocabSize).
     *
     * @throws IllegalArgumentException naming the sequence and position of the first invalid id
     */
    static void validate(List<TrainSequence> sequences, int vocabSize) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("Cannot train on an empty batch.");
        }
        for (int row = 0; row < sequences.size(); row++) {
            int[] tokens = sequences.get(row).tokens();
            for (int j = 0; j < tokens.length; j++) {
                if (tokens[j] < 0 || tokens[j] >= vocabSize) {
                    throw new IllegalArgumentException("Invalid token id " + tokens[j] + " at position " + j
                            + " of sequence " + row + ": the model has " + vocabSize + " embedding rows.");
                }
            }
        }
    }

    Shape shape() {
        return new Shape(rows, width);
    }

    NDArray inputIds(NDManager manager) {
        return manager.create(inputIds, shape());
    }

    NDArray targets(NDManager manager) {
        return manager.create(targets, shape());
    }

    NDArray mask(NDManager manager) {
        return manager.create(mask, shape());
    }

    NDArray advantages(NDManager manager) {
        return manager.create(advantages, shape());
    }

    /** Packs per-sequence values (tokens.length - 1 each) into a padded (B, W) array. */
    NDArray pack(NDManager manager, List<float[]> perSequence) {
        float[] packed = new float[rows * width];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(perSequence.get(b), 0, packed, b * width, lengths[b]);
        }
        return manager.create(packed, shape());
    }

    /** Splits a padded (B, W) host array into per-sequence arrays of tokens.length - 1 values. */
    List<float[]> unpack(float[] padded) {
        List<float[]> perSequence = new ArrayList<>(rows);
        for (int b = 0; b < rows; b++) {
            perSequence.add(Arrays.copyOfRange(padded, b * width, b * width + lengths[b]));
        }
        return perSequence;
    }
}
