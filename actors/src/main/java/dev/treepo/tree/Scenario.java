package dev.treepo.tree;

import java.util.Optional;

/**
 * The extension point that decides what a task's paths look like: when a path is finished and why,
 * and what the environment adds to the context between two segments (a user turn, a tool result).
 * {@link PromptTree} calls it; the tree mechanics (budget, allocation, fallback) stay the same for
 * every task. {@link BoxedAnswerScenario} is the built-in one for math with boxed answers.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #finish} is called once per decoded segment, after the segment has been added to the
 *       path. Return a reason to end the path, or empty to let it continue. The tree still enforces
 *       the hard limits when the scenario returns empty: a path at the max response tokens finishes
 *       as MAX_TOKENS, a path at the max depth as MAX_DEPTH.
 *   <li>{@link #appendBeforeNextSegment} is called once for every path that continues, and for every
 *       fallback cut that keeps some response tokens, before the next segment is requested.
 *       The returned tokens enter the context and the response with loss mask 0, so they are never
 *       trained. If they would leave no room for a generated token under the max response tokens,
 *       a continuing path finishes as MAX_TOKENS instead, and a fallback cuts its source earlier.
 *   <li>A fallback cut never ends inside or right after appended tokens: the cut moves back to the
 *       start of that appended run, and this method is asked again for the cut path. A scenario that
 *       decides from the path's last tokens (for example "append a user turn after EOS") therefore
 *       sees the same state it saw when the run was first appended.
 *   <li>Both methods run on the thread that drives the tree. They must be deterministic functions of
 *       their arguments when rollouts must be reproducible.
 * </ul>
 *
 * <p>A multi-turn dialogue is written as: the worker stops a segment at the end-of-turn token
 * ({@code endedWithEos}); {@link #finish} returns empty while fewer than K turns are done, and
 * {@link #appendBeforeNextSegment} returns the next user message when the last response token is
 * the end-of-turn token.
 */
public interface Scenario {

    /**
     * Decides whether {@code path}, which already ends with {@code segment}, is finished.
     *
     * @return the finish reason, or empty to continue the path
     */
    Optional<FinishReason> finish(PathView path, Segment segment);

    /**
     * Returns the tokens to add to the context of {@code path} before its next segment is decoded;
     * empty by default. The tree never modifies the returned array.
     */
    default int[] appendBeforeNextSegment(PathView path) {
        return new int[0];
    }
}
