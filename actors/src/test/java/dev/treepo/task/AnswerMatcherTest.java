package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AnswerMatcherTest {

    @ParameterizedTest(name = "{0} == {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            68                  | 68
            \\frac{6}{8}        | 0.75
            \\frac{6}{8}        | 3/4
            \\dfrac{1}{2}       | .5
            \\tfrac{1}{2}       | 0.5
            \\frac12            | 1/2
            -\\frac{1}{2}       | -0.5
            \\frac{-1}{2}       | -1/2
            -3                  | \u22123
            \u2212\\frac{3}{4}  | -0.75
            1,000               | 1000
            1{,}000             | 1000
            1\\,000             | 1000
            1,234,567.5         | 1234567.5
            +7                  | 7
            2.50                | 5/2
            0.1                 | 1/10
            0                   | -0
            0.000               | 0
            5.                  | 5
            ` 5 `               | 5
            $5$                 | 5
            $$-2$$              | -2
            \\(12\\)            | 12
            \\$18               | 18
            $18                 | 18
            12 \\text{ cm}      | 12
            12\\mbox{ cm}.      | 12
            $12 \\text{ cm}$.   | 12
            \\frac{1}{2}\\text{ inch} | 0.5
            50\\%               | 50
            90^\\circ           | 90
            90^{\\circ}         | 90
            x=5                 | 5
            x = -\\frac{1}{2}   | -0.5
            \\text{Monday}      | Monday
            \\textbf{(C)}       | (C)
            (1,2)               | ( 1 , 2 )
            \\left(1,2\\right)  | (1,2)
            \\sqrt{2}           | \\sqrt{2}
            """)
    void equivalentAnswersMatch(String candidate, String reference) {
        assertTrue(AnswerMatcher.equivalent(candidate, reference),
                () -> "normalized: [" + AnswerMatcher.normalize(candidate) + "] vs ["
                        + AnswerMatcher.normalize(reference) + "]");
        assertTrue(AnswerMatcher.equivalent(reference, candidate), "equivalence must be symmetric");
    }

    @ParameterizedTest(name = "{0} != {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            68                  | 69
            -3                  | 3
            0.3333              | 1/3
            1,00                | 100
            1,2                 | 12
            \\frac{1}{0}        | 0
            1/0                 | 0
            2/4                 | 1/3
            \\sqrt{2}           | \\sqrt2
            \\sqrt{2}           | 1.41421356
            y=2x+1              | 2x+1
            \\text{ cm}         | 12
            12\\text{cm}        | 13
            x=5                 | 6
            50\\%               | 0.5
            (1,2)               | (2,1)
            A                   | a
            ``                  | 0
            """)
    void differentAnswersDoNotMatch(String candidate, String reference) {
        assertFalse(AnswerMatcher.equivalent(candidate, reference),
                () -> "normalized: [" + AnswerMatcher.normalize(candidate) + "] vs ["
                        + AnswerMatcher.normalize(reference) + "]");
        assertFalse(AnswerMatcher.equivalent(reference, candidate), "equivalence must be symmetric");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            ` $ 1 \\, 000 $. `  | 1000
            \\dfrac{1}{2}       | \\frac{1}{2}
            \\leftarrow         | \\leftarrow
            \\left[0,1\\right)  | [0,1)
            y=2x+1              | y=2x+1
            3\\text{ apples}    | 3
            \\text{3 apples}    | 3apples
            .                   | .
            """)
    void normalizeRewritesSpelling(String answer, String expected) {
        assertEquals(expected, AnswerMatcher.normalize(answer));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            123456789012345678901234567890 | 123456789012345678901234567890.0
            0.1000000000000000000000000001 | 1000000000000000000000000001/10000000000000000000000000000
            """)
    void largeValuesCompareExactly(String candidate, String reference) {
        assertTrue(AnswerMatcher.equivalent(candidate, reference));
        assertFalse(AnswerMatcher.equivalent(candidate, reference + "1"));
    }
}
