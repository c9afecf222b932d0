package dev.treepo.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import java.util.List;

class TrainBatchTest {

    private static final int PAD = 1;

    @Test
    void shiftsPadsAndMasksResponseTokens() {
        TrainSequence first = new TrainSequence(new int[] {10, 11, 12, 13, 14}, 2, new float[] {1f, 0f, 0.5f}, 2f);
        TrainSequence second = TrainSequence.of(new int[] {20, 21, 22}, 1, -1f);

        TrainBatch batch = TrainBatch.of(List.of(first, second), PAD, 100);

        assertEquals(2, batch.rows);
        assertEquals(4, batch.width);
        assertArrayEquals(new long[] {10, 11, 12, 13, 20, 21, PAD, PAD}, batch.inputIds);
        assertArrayEquals(new long[] {11, 12, 13, 14, 21, 22, PAD, PAD}, batch.targets);
        // Target j is token j + 1: the first sequence's response starts at token 2, so target 1.
        assertArrayEquals(new float[] {0f, 1f, 0f, 0.5f, 1f, 1f, 0f, 0f}, batch.mask);
        assertArrayEquals(new float[] {2f, 2f, 2f, 2f, -1f, -1f, -1f, -1f}, batch.advantages);
    }

    @Test
    void unpackInvertsPadding() {
        TrainSequence first = TrainSequence.of(new int[] {1, 2, 3, 4}, 1, 0f);
        TrainSequence second = TrainSequence.of(new int[] {5, 6}, 1, 0f);
        TrainBatch batch = TrainBatch.of(List.of(first, second), PAD, 10);

        List<float[]> rows = batch.unpack(new float[] {1f, 2f, 3f, 4f, 5f, 6f});

        assertArrayEquals(new float[] {1f, 2f, 3f}, rows.get(0));
        assertArrayEquals(new float[] {4f}, rows.get(1));
    }

    @Test
    void sequenceRejectsInvalidFields() {
        assertThrows(IllegalArgumentException.class, () -> TrainSequence.of(new int[] {1}, 1, 0f));
        assertThrows(IllegalArgumentException.class, () -> TrainSequence.of(new int[] {1, 2}, 0, 0f));
        assertThrows(IllegalArgumentException.class, () -> TrainSequence.of(new int[] {1, 2}, 2, 0f));
        assertThrows(IllegalArgumentException.class, () -> new TrainSequence(new int[] {1, 2, 3}, 1, new float[] {1f}, 0f));
        assertThrows(IllegalArgumentException.class, () -> TrainSequence.of(new int[] {1, 2}, 1, Float.NaN));
    }

    @Test
    void rejectsIdsOutsideVocabulary() {
        assertThrows(IllegalArgumentException.class,
                () -> TrainBatch.of(List.of(TrainSequence.of(new int[] {1, -2}, 1, 0f)), PAD, 10));
        assertThrows(IllegalArgumentException.class,
                () -> TrainBatch.of(List.of(TrainSequence.of(new int[] {1, 10}, 1, 0f)), PAD, 10));
    }
}
