package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PromptFormatChatmlTest {

    private static final Problem WITH_SOLUTION = new Problem("p", "23+45", "68", "23+45=68. \\boxed{68}", 1);
    private static final Problem WITHOUT_SOLUTION = new Problem("q", "What is 2+3?", "5", "", 0);

    @Test
    void promptHasSystemUserAndOpenAssistantTurn() {
        PromptFormat format = PromptFormat.chatml(PromptFormat.DEFAULT_SYSTEM_PROMPT);

        assertEquals("<|im_start|>system\nPlease reason step by step, and put your final answer within "
                + "\\boxed{}.<|im_end|>\n<|im_start|>user\n23+45<|im_end|>\n<|im_start|>assistant\n",
                format.prompt(WITH_SOLUTION));
    }

    @Test
    void emptySystemPromptLeavesSystemTurnOut() {
        PromptFormat format = PromptFormat.chatml("");

        assertEquals("<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n",
                format.prompt(WITHOUT_SOLUTION));
    }

    @Test
    void targetEndsWithImEnd() {
        PromptFormat format = PromptFormat.chatml("s");

        assertEquals("23+45=68. \\boxed{68}<|im_end|>", format.target(WITH_SOLUTION));
        assertEquals("\\boxed{5}<|im_end|>", format.target(WITHOUT_SOLUTION));
    }

    @Test
    void defaultConstructorIsPlain() {
        PromptFormat format = new PromptFormat();

        assertEquals(PromptFormat.Style.PLAIN, format.style());
        assertEquals("Q: 23+45\nA: ", format.prompt(WITH_SOLUTION));
        assertEquals("23+45=68. \\boxed{68}", format.target(WITH_SOLUTION));
    }
}
