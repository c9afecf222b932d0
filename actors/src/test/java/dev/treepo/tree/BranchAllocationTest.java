package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.TreeConfig.Allocation;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BranchAllocationTest {

    private static int[] counts(String spaced) {
        return Arrays.stream(spaced.trim().split(" ")).mapToInt(Integer::parseInt).toArray();
    }

    @ParameterizedTest(name = "{0} among {1} -> {2}")
    @CsvSource({
        "7, 3, 3 2 2",
        "8, 3, 3 3 2",
        "10, 4, 3 3 2 2",
        "5, 5, 1 1 1 1 1",
        "3, 1, 3",
        "16, 6, 3 3 3 3 2 2",
    })
    void evenSpreadsRemainderOverFirstPaths(int total, int paths, String expected) {
        assertArrayEquals(counts(expected), BranchAllocation.allocate(total, new float[paths], Allocation.EVEN, 1.0));
    }

    @Test
    void logprobFavoursLeastLikelyPath() {
        float[] scores = {-1f, -10f};
        assertArrayEquals(new int[] {1, 9}, BranchAllocation.allocate(10, scores, Allocation.LOGPROB, 1.0));
        assertArrayEquals(new int[] {9, 1}, BranchAllocation.allocate(10, scores, Allocation.INVERSE_LOGPROB, 1.0));
    }

    @Test
    void logprobHandCase() {
        // c - min c = (ln 3, 0), so the weights are softmax(-ln 3, 0) = (1/4, 3/4); 6 - 2 = 4 units split 1 : 3.
        float[] scores = {0f, (float) -Math.log(3)};
        assertArrayEquals(new int[] {2, 4}, BranchAllocation.allocate(6, scores, Allocation.LOGPROB, 1.0));
        // Temperature 2 gives weights softmax(-ln 3 / 2, 0) = (0.366, 0.634): shares (1.46, 2.54) of 4.
        assertArrayEquals(new int[] {2, 4}, BranchAllocation.allocate(6, scores, Allocation.LOGPROB, 2.0));
    }

    @Test
    void tiedRemaindersGoToEarlierPath() {
        // Equal scores give weights (1/3, 1/3, 1/3); 2 units leave shares 2/3 each, so the first two win.
        float[] scores = {-2f, -2f, -2f};
        assertArrayEquals(new int[] {2, 2, 1}, BranchAllocation.allocate(5, scores, Allocation.LOGPROB, 1.0));
        assertArrayEquals(new int[] {2, 1}, BranchAllocation.allocate(3, new float[] {-1f, -1f},
                Allocation.INVERSE_LOGPROB, 1.0));
    }

    @Test
    void highTemperatureIsNearlyEven() {
        float[] scores = {-1f, -2f, -3f};
        assertArrayEquals(new int[] {3, 3, 3}, BranchAllocation.allocate(9, scores, Allocation.LOGPROB, 1e6));
        assertArrayEquals(new int[] {3, 3, 3}, BranchAllocation.allocate(9, scores, Allocation.INVERSE_LOGPROB, 1e6));
    }

    @Test
    void hugeScoreGapsDoNotUnderflow() {
        float[] scores = {-1e6f, 0f, -5e5f};
        int[] low = BranchAllocation.allocate(12, scores, Allocation.LOGPROB, 1.0);
        assertArrayEquals(new int[] {10, 1, 1}, low);
        int[] high = BranchAllocation.allocate(12, scores, Allocation.INVERSE_LOGPROB, 1.0);
        assertArrayEquals(new int[] {1, 10, 1}, high);
    }

    @Test
    void countsSumToTotal() {
        SplittableRandom rng = new SplittableRandom(3);
        for (int trial = 0; trial < 2000; trial++) {
            int paths = 1 + rng.nextInt(12);
            int total = paths + rng.nextInt(40);
            float[] scores = new float[paths];
            for (int i = 0; i < paths; i++) {
                scores[i] = (float) (-200 * rng.nextDouble());
            }
            double temperature = Math.exp(rng.nextDouble(-3, 5));
            for (Allocation policy : Allocation.values()) {
                int[] counts = BranchAllocation.allocate(total, scores, policy, temperature);
                assertEquals(total, Arrays.stream(counts).sum(), policy + " " + Arrays.toString(counts));
                assertTrue(Arrays.stream(counts).allMatch(c -> c >= 1), policy + " " + Arrays.toString(counts));
            }
        }
    }

    @Test
    void rejectsInvalidInput() {
        assertThrows(IllegalArgumentException.class,
                () -> BranchAllocation.allocate(2, new float[3], Allocation.EVEN, 1.0), "total below paths");
        assertThrows(IllegalArgumentException.class,
                () -> BranchAllocation.allocate(2, new float[0], Allocation.EVEN, 1.0), "no paths");
        assertThrows(IllegalArgumentException.class,
                () -> BranchAllocation.allocate(4, new float[] {0f, Float.NaN}, Allocation.LOGPROB, 1.0), "NaN");
        assertThrows(IllegalArgumentException.class,
                () -> BranchAllocation.allocate(4, new float[] {0f, -1f}, Allocation.LOGPROB, 0.0), "temperature");
    }
}
