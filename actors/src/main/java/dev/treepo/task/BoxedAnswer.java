package dev.treepo.task;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;

/**
 * Extraction of the final answer that a response marks with the LaTeX command {@code \boxed{...}}.
 */
public final class BoxedAnswer {

    private static final String OPENING = "\\boxed{";

    /** Open brace on the scan stack, with {@code contentStart} -1 for a brace that opens no box. */
    private record OpenBrace(int contentStart) {
    }

    private BoxedAnswer() {
    }

    /**
     * Returns the content of the last complete {@code \boxed{...}} in {@code text}.
     *
     * <p>Braces inside the box may nest to any depth ({@code \boxed{\frac{1}{2}}} gives
     * {@code \frac{1}{2}}). The escaped braces {@code \{} and {@code \}} are literal text and do not
     * open or close a group. "Last" means the box that opens last among those that close. So a box
     * still open at the end of the text is skipped in favor of the previous complete one, and a box
     * nested in another box wins over the outer one. A stray closing brace outside every group is
     * ignored.
     * Returns empty when no box is complete. The content is returned as written, without trimming.
     */
    public static Optional<String> extractLast(String text) {
        Deque<OpenBrace> open = new ArrayDeque<>();
        int bestStart = -1;
        int bestEnd = -1;

        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '\\' && text.startsWith(OPENING, i)) {
                int contentStart = i + OPENING.length();
                open.push(new OpenBrace(contentStart));
                i = contentStart;
                continue;
            }
            if (c == '\\') {
                // A control symbol such as \{, \} or \\ is literal text, so its second character
                // never opens or closes a group.
                i += 2;
                continue;
            }
            if (c == '{') {
                open.push(new OpenBrace(-1));
            } else if (c == '}' && !open.isEmpty()) {
                int contentStart = open.pop().contentStart();
                if (contentStart > bestStart) {
                    bestStart = contentStart;
                    bestEnd = i;
                }
            }
            i++;
        }

        if (bestStart < 0) {
            return Optional.empty();
        }
        return Optional.of(text.substring(bestStart, bestEnd));
    }

    /** Returns {@code \boxed{answer}}. */
    public static String wrap(String answer) {
        return OPENING + answer + "}";
    }
}
