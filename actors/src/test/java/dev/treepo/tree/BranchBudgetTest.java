package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BranchBudgetTest {

    @ParameterizedTest(name = "N {0}, W {1}, A {2}, F {3}, g {4} -> {5}")
    @CsvSource({
        // width, finished, active, justFinished, g, total
        "8, 0, 1, 0, 2, 2",
        "8, 0, 2, 0, 2, 4",
        "8, 0, 4, 0, 2, 8",
        "8, 0, 8, 0, 2, 8",
        "8, 0, 3, 0, 3, 8",
        "8, 3, 2, 1, 2, 5",
        "8, 3, 2, 3, 2, 5",
        "8, 6, 2, 0, 2, 2",
        "8, 6, 1, 0, 2, 2",
        "8, 2, 1, 2, 1, 3",
        "16, 2, 3, 2, 3, 14",
        "16, 10, 3, 2, 1, 5",
        "8, 0, 2, 0, 1, 2",
        // Every active path continues even when the width is used up.
        "4, 4, 1, 0, 2, 1",
        "4, 3, 0, 3, 2, 1",
    })
    void totalTable(int width, int finished, int active, int justFinished, int branch, int expected) {
        assertEquals(expected, BranchBudget.total(width, finished, active, justFinished, branch));
    }

    @ParameterizedTest(name = "N {0}, W {1}, A {2}, F {3}, g {4}")
    @CsvSource({"0, 0, 1, 0, 2", "8, -1, 1, 0, 2", "8, 0, -1, 0, 2", "8, 0, 1, -1, 2", "8, 1, 1, 2, 2", "8, 0, 1, 0, 0"})
    void rejectsInvalidCounts(int width, int finished, int active, int justFinished, int branch) {
        assertThrows(IllegalArgumentException.class,
                () -> BranchBudget.total(width, finished, active, justFinished, branch));
    }
}
