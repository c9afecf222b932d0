package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BoxedMatchRewardTest {

    private static final Problem HALF = new Problem("half", "1/2 as a decimal?", "0.5", "", 0);
    private final RewardFunction reward = new BoxedMatchReward();

    @ParameterizedTest(name = "[{0}] -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            \\boxed{0.5}                               | 1.0
            so it is \\boxed{\\frac{1}{2}}.            | 1.0
            \\boxed{.50}                               | 1.0
            \\boxed{1} no wait \\boxed{1/2}            | 1.0
            \\boxed{1/2} no wait \\boxed{1}            | 0.0
            \\boxed{1/2} and then \\boxed{3            | 1.0
            the answer is 0.5                          | 0.0
            \\boxed{0.5                                | 0.0
            \\boxed{}                                  | 0.0
            ``                                         | 0.0
            """)
    void scoreChecksLastCompleteBox(String response, double expected) {
        assertEquals(expected, reward.score(HALF, response));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            23+45=68. \\boxed{68}         | 68 | 1.0
            6*3=18. 7-18=-11. \\boxed{-11} | -11 | 1.0
            6*3=18. 7-18=11. \\boxed{11}   | -11 | 0.0
            #### 1,000                     | 1000 | 0.0
            \\boxed{1,000}                 | 1000 | 1.0
            """)
    void scoreComparesWithReferenceAnswer(String response, String answer, double expected) {
        Problem problem = new Problem("p", "question", answer, "", 1);

        assertEquals(expected, reward.score(problem, response));
    }
}
