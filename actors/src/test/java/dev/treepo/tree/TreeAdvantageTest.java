package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.treepo.tree.TreeAdvantage.Scored;
import java.util.List;
import org.junit.jupiter.api.Test;

class TreeAdvantageTest {

    private static final double TOLERANCE = 1e-9;

    /** Leaves a, b under node x (id 0) and c, d under node y (id 3), rewards (1, 0, 0, 0). */
    private static List<Scored> handTree(int... tokens) {
        return List.of(
                new Scored(7, new int[] {0, 1}, 1.0, tokens[0]),
                new Scored(7, new int[] {0, 2}, 0.0, tokens[1]),
                new Scored(7, new int[] {3, 4}, 0.0, tokens[2]),
                new Scored(7, new int[] {3, 5}, 0.0, tokens[3]));
    }

    @Test
    void subgroupAdvantagesOfHandTree() {
        // Level 0: mean 0.25 -> (0.75, -0.25, -0.25, -0.25); level 1: {a, b} mean 0.5, {c, d} mean 0
        // -> (0.5, -0.5, 0, 0); the average of the two levels:
        assertArrayEquals(new double[] {0.625, -0.375, -0.125, -0.125},
                TreeAdvantage.subgroupAdvantages(handTree(1, 1, 1, 1)), TOLERANCE);
    }

    @Test
    void treepoWhitensHandTreeOverTokens() {
        // One token each: mean 0, unbiased variance (0.390625 + 0.140625 + 0.015625 + 0.015625) / 3 = 0.1875.
        double scale = Math.sqrt(0.1875 + 1e-8);
        assertArrayEquals(new double[] {0.625 / scale, -0.375 / scale, -0.125 / scale, -0.125 / scale},
                TreeAdvantage.treepo(handTree(1, 1, 1, 1)), TOLERANCE);
        // Five tokens each: the same mean, but the variance divides by 20 - 1 token positions.
        double fiveScale = Math.sqrt(5 * 0.5625 / 19 + 1e-8);
        assertArrayEquals(new double[] {0.625 / fiveScale, -0.375 / fiveScale, -0.125 / fiveScale, -0.125 / fiveScale},
                TreeAdvantage.treepo(handTree(5, 5, 5, 5)), TOLERANCE);
    }

    @Test
    void whiteningWeightsByTokens() {
        // Mean (3 * 1 + 1 * -1) / 4 = 0.5; squares 3 * 0.25 + 2.25 = 3; variance 3 / (4 - 1) = 1.
        double scale = Math.sqrt(1 + 1e-8);
        assertArrayEquals(new double[] {0.5 / scale, -1.5 / scale},
                TreeAdvantage.whiten(new double[] {1, -1}, new int[] {3, 1}), TOLERANCE);
    }

    @Test
    void whiteningSingleTokenHasZeroVariance() {
        assertArrayEquals(new double[] {0}, TreeAdvantage.whiten(new double[] {0.7}, new int[] {1}), TOLERANCE);
    }

    @Test
    void whiteningRejectsLeafWithoutTokens() {
        assertThrows(IllegalArgumentException.class, () -> TreeAdvantage.whiten(new double[] {1, 2}, new int[] {3, 0}));
        assertThrows(IllegalArgumentException.class, () -> TreeAdvantage.whiten(new double[] {1}, new int[] {3, 1}));
    }

    @Test
    void singletonPromptKeepsRewardAsDeviation() {
        List<Scored> leaves = List.of(new Scored(1, new int[] {9, 10}, 0.7, 4));
        assertArrayEquals(new double[] {0.7}, TreeAdvantage.subgroupAdvantages(leaves), TOLERANCE);
    }

    @Test
    void promptsAreGroupedSeparately() {
        List<Scored> leaves = List.of(
                new Scored(1, new int[] {0}, 1.0, 1),
                new Scored(2, new int[] {0, 1}, 1.0, 1),
                new Scored(2, new int[] {0, 2}, 0.0, 1));
        // Prompt 1 is a singleton: deviation R = 1. Prompt 2 shares node 0 at level 1 with the same mean.
        assertArrayEquals(new double[] {1.0, 0.5, -0.5}, TreeAdvantage.subgroupAdvantages(leaves), TOLERANCE);
    }

    @Test
    void unevenDepthsSkipSingletonLevels() {
        List<Scored> leaves = List.of(
                new Scored(0, new int[] {0, 1, 2}, 1.0, 1),
                new Scored(0, new int[] {0, 1, 3}, 0.0, 1),
                new Scored(0, new int[] {0, 4}, 0.5, 1));
        // Levels 0 and 1 contain all three leaves (mean 0.5). Level 2 contains {a, b} (mean 0.5) and skips c,
        // which has no partner there.
        assertArrayEquals(new double[] {0.5, -0.5, 0.0}, TreeAdvantage.subgroupAdvantages(leaves), TOLERANCE);
    }

    @Test
    void chainsReduceToPromptBaseline() {
        List<Scored> leaves = List.of(
                new Scored(0, new int[] {0, 1}, 1.0, 1),
                new Scored(0, new int[] {2, 3}, 0.0, 1),
                new Scored(0, new int[] {4, 5}, 0.5, 1));
        assertArrayEquals(new double[] {0.5, -0.5, 0.0}, TreeAdvantage.subgroupAdvantages(leaves), TOLERANCE);
    }

    @Test
    void grpoHandCase() {
        // Mean 0.25, unbiased std sqrt((0.5625 + 3 * 0.0625) / 3) = 0.5.
        double std = 0.5 + 1e-4;
        assertArrayEquals(new double[] {0.75 / std, -0.25 / std, -0.25 / std, -0.25 / std},
                TreeAdvantage.grpo(handTree(1, 1, 1, 1)), TOLERANCE);
    }

    @Test
    void grpoSingletonUsesMeanZeroStdOne() {
        List<Scored> leaves = List.of(new Scored(3, new int[] {0}, 0.8, 2));
        assertArrayEquals(new double[] {0.8 / (1 + 1e-4)}, TreeAdvantage.grpo(leaves), TOLERANCE);
    }

    @Test
    void grpoUniformGroupIsZero() {
        List<Scored> leaves = List.of(new Scored(3, new int[] {0}, 1, 2), new Scored(3, new int[] {1}, 1, 2));
        assertArrayEquals(new double[] {0, 0}, TreeAdvantage.grpo(leaves), TOLERANCE);
    }

    @Test
    void nonUniformIndicesDropUniformPrompts() {
        List<Scored> leaves = List.of(
                new Scored(0, new int[] {0}, 1, 1),
                new Scored(1, new int[] {0}, 0, 1),
                new Scored(0, new int[] {1}, 1, 1),
                new Scored(1, new int[] {1}, 1, 1),
                new Scored(2, new int[] {0}, 1, 1));
        // Prompt 0 is all 1; prompt 1 is mixed; prompt 2 has one leaf and is kept.
        assertEquals(List.of(1, 3, 4), TreeAdvantage.nonUniformIndices(leaves));
    }

    @Test
    void rejectsNonFiniteReward() {
        List<Scored> leaves = List.of(new Scored(0, new int[] {0}, Double.NaN, 1));
        assertThrows(IllegalArgumentException.class, () -> TreeAdvantage.treepo(leaves));
    }
}
