package dev.treepo.task;

import java.util.Objects;

/**
 * Layout of the model's input and of its supervised target: plain question and answer, or ChatML.
 *
 * <p>The plain layout is kept short because the built-in model is character-level with a 512-token
 * context: the prefix {@code "Q: "} and the separator {@code "\nA: "} cost 7 tokens in all.
 *
 * <p>ChatML is the chat layout of Qwen models: a system turn (left out when the system prompt is
 * empty), the problem as the user turn, and an open assistant turn. The assistant turn ends with
 * {@code <|im_end|>}, so a ChatML target ends with it and decoding must stop on it.
 */
public final class PromptFormat {

    /** The two layouts. */
    public enum Style {
        PLAIN,
        CHATML
    }

    /** Token that opens a ChatML turn. */
    public static final String IM_START = "<|im_start|>";
    /** Token that closes a ChatML turn. */
    public static final String IM_END = "<|im_end|>";
    /** Default system prompt: step-by-step reasoning and a final answer that the reward finds in {@code \boxed{}}. */
    public static final String DEFAULT_SYSTEM_PROMPT =
            "Please reason step by step, and put your final answer within \\boxed{}.";

    private static final String QUESTION_PREFIX = "Q: ";
    private static final String ANSWER_PREFIX = "\nA: ";

    private final Style style;
    private final String systemPrompt;

    /** Creates the plain layout, {@code "Q: ...\nA: "}. */
    public PromptFormat() {
        this(Style.PLAIN, "");
    }

    /**
     * Creates a layout. The system prompt applies to ChatML only, and an empty one leaves the
     * system turn out.
     */
    public PromptFormat(Style style, String systemPrompt) {
        this.style = Objects.requireNonNull(style, "style");
        this.systemPrompt = Objects.requireNonNull(systemPrompt, "systemPrompt");
    }

    /** Creates the ChatML layout with {@code systemPrompt} as the system turn. */
    public static PromptFormat chatml(String systemPrompt) {
        return new PromptFormat(Style.CHATML, systemPrompt);
    }

    public Style style() {
        return style;
    }

    public String systemPrompt() {
        return systemPrompt;
    }

    /** Returns the model input for a problem, ending where the response begins. */
    public String prompt(Problem problem) {
        if (style == Style.PLAIN) {
            return QUESTION_PREFIX + problem.question() + ANSWER_PREFIX;
        }
        StringBuilder prompt = new StringBuilder();
        if (!systemPrompt.isEmpty()) {
            prompt.append(IM_START).append("system\n").append(systemPrompt).append(IM_END).append('\n');
        }
        prompt.append(IM_START).append("user\n").append(problem.question()).append(IM_END).append('\n');
        prompt.append(IM_START).append("assistant\n");
        return prompt.toString();
    }

    /**
     * Returns the response the model should learn to write: the worked solution, or only
     * {@code \boxed{answer}} when the problem has no solution, followed by {@code <|im_end|>} in
     * ChatML.
     */
    public String target(Problem problem) {
        String response = problem.solution().isEmpty()
                ? BoxedAnswer.wrap(problem.answer())
                : problem.solution();
        return style == Style.CHATML ? response + IM_END : response;
    }

    @Override
    public String toString() {
        return style == Style.PLAIN ? "plain" : "chatml";
    }
}
