package dev.treepo.tree;

import dev.treepo.task.BoxedAnswer;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The math scenario: a path ends when the response contains a complete {@code \boxed{...}} answer,
 * at EOS, or at a length, depth or repetition limit. Nothing is appended between segments.
 *
 * <p>Checks run in this order, and the first that applies wins:
 *
 * <ol>
 *   <li>a complete {@code \boxed{...}} (braces may nest) anywhere in the response text so far:
 *       BOXED_ANSWER. The whole response is searched, so an answer split over a segment boundary is
 *       found; the TreePO reference checks only the newest segment and misses it;
 *   <li>EOS: UNCLOSED_ANSWER when the text contains {@code \boxed{} without its closing brace,
 *       else EOS;
 *   <li>response length at or above the max response tokens: MAX_TOKENS. The tree never requests
 *       more tokens than the limit leaves, so the response ends exactly at the limit;
 *   <li>depth at or above the max depth: MAX_DEPTH;
 *   <li>some substring of {@code repetitionWindowChars} characters occurring at least
 *       {@code repetitionMinCount} times in this segment's text: REPETITION.
 * </ol>
 */
public final class BoxedAnswerScenario implements Scenario {

    private static final String BOX_OPEN = "\\boxed{";

    private final int maxResponseTokens;
    private final int maxDepth;
    private final int repetitionWindowChars;
    private final int repetitionMinCount;

    /** Creates the scenario with the limits and the repetition rule of {@code config}. */
    public BoxedAnswerScenario(TreeConfig config) {
        this.maxResponseTokens = config.effectiveMaxResponseTokens();
        this.maxDepth = config.maxDepth();
        this.repetitionWindowChars = config.repetitionWindowChars();
        this.repetitionMinCount = config.repetitionMinCount();
    }

    @Override
    public Optional<FinishReason> finish(PathView path, Segment segment) {
        String text = path.responseText();
        if (lastBoxedAnswer(text).isPresent()) {
            return Optional.of(FinishReason.BOXED_ANSWER);
        }
        if (segment.endedWithEos()) {
            return Optional.of(text.contains(BOX_OPEN) ? FinishReason.UNCLOSED_ANSWER : FinishReason.EOS);
        }
        if (path.responseLength() >= maxResponseTokens) {
            return Optional.of(FinishReason.MAX_TOKENS);
        }
        if (path.depth() >= maxDepth) {
            return Optional.of(FinishReason.MAX_DEPTH);
        }
        if (hasRepetition(segment.text(), repetitionWindowChars, repetitionMinCount)) {
            return Optional.of(FinishReason.REPETITION);
        }
        return Optional.empty();
    }

    /**
     * Returns the content of the last complete {@code \boxed{...}} in {@code text}, with nested
     * braces kept, by the same rule the reward uses ({@link BoxedAnswer#extractLast}), so a path
     * stops exactly when its answer becomes scorable.
     */
    public static Optional<String> lastBoxedAnswer(String text) {
        return BoxedAnswer.extractLast(text);
    }

    /**
     * Returns whether some substring of {@code windowChars} characters starts at {@code minCount} or
     * more positions of {@code text}. Overlapping occurrences count, so 40 equal characters contain
     * a 32-character window 9 times.
     */
    static boolean hasRepetition(String text, int windowChars, int minCount) {
        if (text.length() < windowChars) {
            return false;
        }
        Map<String, Integer> counts = new HashMap<>();
        for (int start = 0; start + windowChars <= text.length(); start++) {
            int count = counts.merge(text.substring(start, start + windowChars), 1, Integer::sum);
            if (count >= minCount) {
                return true;
            }
        }
        return false;
    }
}
