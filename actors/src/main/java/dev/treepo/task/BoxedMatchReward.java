package dev.treepo.task;

import java.util.Optional;

/**
 * Binary outcome reward: 1 when the last complete {@code \boxed{...}} in the response is equivalent
 * to the reference answer by {@link AnswerMatcher#equivalent}, otherwise 0, also when the response
 * has no complete box.
 */
public final class BoxedMatchReward implements RewardFunction {

    public static final double CORRECT = 1.0;
    public static final double INCORRECT = 0.0;

    @Override
    public double score(Problem problem, String responseText) {
        Optional<String> boxed = BoxedAnswer.extractLast(responseText);
        if (boxed.isPresent() && AnswerMatcher.equivalent(boxed.get(), problem.answer())) {
            return CORRECT;
        }
        return INCORRECT;
    }
}
