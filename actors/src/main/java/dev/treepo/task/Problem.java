package dev.treepo.task;

import java.util.Objects;

/**
 * One task item: a question, its reference answer and a worked solution for supervised warm-up.
 *
 * @param id       identifier, unique within the set it was loaded or generated in
 * @param question question text as shown to the model
 * @param answer   reference final answer, compared by value through {@link AnswerMatcher}
 * @param solution worked solution ending in {@code \boxed{answer}}, or empty when the source gave
 *                 only an answer
 * @param level    difficulty level from 1 upwards, or 0 when unknown
 */
public record Problem(String id, String question, String answer, String solution, int level) {

    public Problem {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(solution, "solution");
        if (level < 0) {
            throw new IllegalArgumentException(
                    "Invalid level " + level + " for problem " + id + ": use 0 for unknown or 1 upwards.");
        }
    }
}
