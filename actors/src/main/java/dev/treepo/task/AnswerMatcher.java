package dev.treepo.task;

import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Comparison of a final answer with a reference answer by value.
 *
 * <p>Both sides go through {@link #normalize}. When both then parse as numbers they are compared as
 * exact rationals, so {@code 0.75}, {@code 3/4}, {@code \frac{6}{8}} and {@code 0.750} are equal and
 * no floating-point rounding is involved. Otherwise the normalized strings must be equal.
 */
public final class AnswerMatcher {

    /** Unicode minus sign U+2212, which models and typeset sources write for {@code -}. */
    private static final char UNICODE_MINUS = '\u2212';

    /** Pairs of math delimiters around a whole answer, longest first so that $$ wins over $. */
    private static final List<String[]> MATH_DELIMITERS = List.of(
            new String[] {"$$", "$$"},
            new String[] {"$", "$"},
            new String[] {"\\(", "\\)"},
            new String[] {"\\[", "\\]"});

    /** LaTeX thin, medium, thick and negative spaces and the control space. */
    private static final Pattern LATEX_SPACING = Pattern.compile("\\\\[!,:; ]");
    /** {@code \left} and {@code \right} before a delimiter, but not {@code \leftarrow}. */
    private static final Pattern SIZED_DELIMITER = Pattern.compile("\\\\(?:left|right)(?![A-Za-z])");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    /** Text-mode group around the whole answer or after it, with no nested braces in its content. */
    private static final Pattern WHOLE_TEXT_GROUP = Pattern.compile("\\\\(?:text|textbf|mbox|mathrm)\\{([^{}]*)}");
    private static final Pattern TRAILING_TEXT_GROUP = Pattern.compile("(.+?)\\\\(?:text|mbox|mathrm)\\{[^{}]*}");
    /** Percent and degree signs, dropped when a number precedes them. */
    private static final List<String> NUMBER_SUFFIXES = List.of("\\%", "%", "^\\circ", "^{\\circ}", "\\circ");
    /** Currency signs, dropped when a number follows them. */
    private static final List<String> NUMBER_PREFIXES = List.of("\\$", "$");
    /** One-letter variable assignment such as {@code x=5}, dropped when the value is a number. */
    private static final Pattern VARIABLE_ASSIGNMENT = Pattern.compile("[A-Za-z]=([^=]+)");

    private AnswerMatcher() {
    }

    /**
     * Returns whether {@code candidate} and {@code reference} denote the same answer.
     *
     * <p>Equal pairs include {@code 1,000} and {@code 1000}, {@code -3} and {@code −3} (Unicode minus),
     * {@code +7} and {@code 7}, {@code .5} and {@code \dfrac{1}{2}}, {@code 2.50} and {@code 5/2},
     * {@code $5$} and {@code 5.}, {@code 12 \text{ cm}} and {@code 12}, {@code 50\%} and {@code 50},
     * and {@code x=5} and {@code 5}. Non-numeric answers such as {@code (1,2)} or
     * {@code \sqrt{2}} must match as normalized strings, so {@code \sqrt{2}} and {@code \sqrt2} differ.
     */
    public static boolean equivalent(String candidate, String reference) {
        String normalizedCandidate = normalize(candidate);
        String normalizedReference = normalize(reference);

        Optional<Rational> candidateValue = Rational.parse(normalizedCandidate);
        Optional<Rational> referenceValue = Rational.parse(normalizedReference);
        if (candidateValue.isPresent() && referenceValue.isPresent()) {
            return candidateValue.get().equals(referenceValue.get());
        }
        return normalizedCandidate.equals(normalizedReference);
    }

    /**
     * Rewrites an answer into a canonical spelling: Unicode minus to {@code -}, no whitespace or LaTeX
     * spacing, no surrounding math delimiters, no trailing period, {@code \dfrac} and {@code \tfrac} as
     * {@code \frac}, no {@code \left} and {@code \right}, and a whole-answer {@code \text{...}} group
     * unwrapped. Units ({@code \text{...}} after the value), percent and degree signs, currency signs
     * and a leading one-letter assignment such as {@code x=} are dropped only when a plain number
     * remains, so that {@code \text{}} inside a non-numeric answer is kept.
     */
    static String normalize(String answer) {
        String text = answer.replace(UNICODE_MINUS, '-');
        text = LATEX_SPACING.matcher(text).replaceAll("");
        text = WHITESPACE.matcher(text).replaceAll("");
        text = text.replace("{,}", ",")
                .replace("\\dfrac", "\\frac")
                .replace("\\tfrac", "\\frac");
        text = SIZED_DELIMITER.matcher(text).replaceAll("");

        // Each pass removes one layer, as in "$12 \text{ cm}$." where the period, the delimiters
        // and the unit come off in turn.
        String previous;
        do {
            previous = text;
            text = stripTrailingPeriod(text);
            text = stripMathDelimiters(text);
            text = unwrapWholeTextGroup(text);
            text = stripNumberDecoration(text);
        } while (!text.equals(previous));
        return text;
    }

    private static String stripTrailingPeriod(String text) {
        if (text.length() > 1 && text.endsWith(".")) {
            return text.substring(0, text.length() - 1);
        }
        return text;
    }

    private static String stripMathDelimiters(String text) {
        for (String[] pair : MATH_DELIMITERS) {
            String open = pair[0];
            String close = pair[1];
            if (text.length() >= open.length() + close.length() && text.startsWith(open) && text.endsWith(close)) {
                return text.substring(open.length(), text.length() - close.length());
            }
        }
        return text;
    }

    private static String unwrapWholeTextGroup(String text) {
        Matcher whole = WHOLE_TEXT_GROUP.matcher(text);
        if (whole.matches()) {
            return whole.group(1);
        }
        return text;
    }

    /** Drops a unit, percent or degree sign, currency sign or variable name around a plain number. */
    private static String stripNumberDecoration(String text) {
        Matcher unit = TRAILING_TEXT_GROUP.matcher(text);
        if (unit.matches() && isNumber(unit.group(1))) {
            return unit.group(1);
        }
        for (String suffix : NUMBER_SUFFIXES) {
            if (text.endsWith(suffix) && isNumber(text.substring(0, text.length() - suffix.length()))) {
                return text.substring(0, text.length() - suffix.length());
            }
        }
        for (String prefix : NUMBER_PREFIXES) {
            if (text.startsWith(prefix) && isNumber(text.substring(prefix.length()))) {
                return text.substring(prefix.length());
            }
        }
        Matcher assignment = VARIABLE_ASSIGNMENT.matcher(text);
        if (assignment.matches() && isNumber(assignment.group(1))) {
            return assignment.group(1);
        }
        return text;
    }

    private static boolean isNumber(String text) {
        return Rational.parse(stripTrailingPeriod(text)).isPresent();
    }
}
