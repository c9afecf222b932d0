package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PromptFormatTest {

    private final PromptFormat format = new PromptFormat();

    @Test
    void promptWrapsQuestion() {
        Problem problem = new Problem("p", "23+45", "68", "23+45=68. \\boxed{68}", 1);

        assertEquals("Q: 23+45\nA: ", format.prompt(problem));
    }

    @Test
    void targetIsSolution() {
        Problem problem = new Problem("p", "23+45", "68", "23+45=68. \\boxed{68}", 1);

        assertEquals("23+45=68. \\boxed{68}", format.target(problem));
    }

    @Test
    void targetWithoutSolutionIsBoxedAnswer() {
        Problem problem = new Problem("p", "What is 2+3?", "5", "", 0);

        assertEquals("\\boxed{5}", format.target(problem));
    }

    @Test
    void generatedPromptAndTargetStayShort() {
        for (Problem problem : ArithmeticTask.train(1, 2_000)) {
            int length = format.prompt(problem).length() + format.target(problem).length();
            assertTrue(length < 100, () -> "prompt and target of " + problem + ": " + length + " chars");
        }
    }
}
