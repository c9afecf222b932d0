package dev.treepo.task;

/**
 * Question-and-answer layout of the model's input and of its supervised target.
 *
 * <p>The layout is kept short because the built-in model is character-level with a 512-token
 * context: the prefix {@code "Q: "} and the separator {@code "\nA: "} cost 7 tokens in all.
 */
public final class PromptFormat {

    private static final String QUESTION_PREFIX = "Q: ";
    private static final String ANSWER_PREFIX = "\nA: ";

    /** Returns the model input for a problem, ending where the response begins. */
    public String prompt(Problem problem) {
        return QUESTION_PREFIX + problem.question() + ANSWER_PREFIX;
    }

    /**
     * Returns the response the model should learn to write: the worked solution, or only
     * {@code \boxed{answer}} when the problem has no solution.
     */
    public String target(Problem problem) {
        if (problem.solution().isEmpty()) {
            return BoxedAnswer.wrap(problem.answer());
        }
        return problem.solution();
    }
}
