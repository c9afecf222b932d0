package dev.treepo.task;

/**
 * Reward of a finished response to a problem. Implementations must be thread-safe, because actors on
 * different threads may share one instance.
 */
@FunctionalInterface
public interface RewardFunction {

    /**
     * Returns the reward of {@code responseText}, the text the model generated after the prompt,
     * for {@code problem}.
     */
    double score(Problem problem, String responseText);
}
