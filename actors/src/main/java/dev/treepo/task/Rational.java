package dev.treepo.task;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exact rational number in lowest terms with a positive denominator, so that equal values are equal
 * records.
 */
record Rational(BigInteger numerator, BigInteger denominator) {

    /** Digits with optional thousands separators in groups of exactly three: 1,000 but not 1,00. */
    private static final String UNSIGNED_INTEGER = "(?:\\d{1,3}(?:,\\d{3})+|\\d+)";
    private static final String UNSIGNED_DECIMAL =
            "(?:" + UNSIGNED_INTEGER + "(?:\\.\\d*)?|\\.\\d+)";
    private static final Pattern DECIMAL = Pattern.compile("([+-]?)(" + UNSIGNED_DECIMAL + ")");
    private static final Pattern SLASH_FRACTION = Pattern.compile("([+-]?)(" + UNSIGNED_DECIMAL
            + ")/(" + UNSIGNED_DECIMAL + ")");
    /** {@code \frac{a}{b}}, and the LaTeX shorthand {@code \frac12} with one-digit parts. */
    private static final Pattern LATEX_FRACTION = Pattern.compile("([+-]?)\\\\frac(?:"
            + "\\{([+-]?" + UNSIGNED_DECIMAL + ")}\\{([+-]?" + UNSIGNED_DECIMAL + ")}"
            + "|(\\d)(\\d))");

    Rational {
        if (denominator.signum() == 0) {
            throw new IllegalArgumentException("Invalid rational " + numerator + "/0: the denominator is zero.");
        }
        if (denominator.signum() < 0) {
            numerator = numerator.negate();
            denominator = denominator.negate();
        }
        BigInteger gcd = numerator.gcd(denominator);
        numerator = numerator.divide(gcd);
        denominator = denominator.divide(gcd);
    }

    /**
     * Parses a plain number: an integer or decimal ({@code -3}, {@code +1,000}, {@code .5},
     * {@code 2.50}), a slash fraction ({@code 6/8}) or a LaTeX fraction ({@code \frac{6}{8}},
     * {@code -\frac{1}{2}}, {@code \frac12}). The text must already be free of spaces, and
     * {@code \dfrac} and {@code \tfrac} must already be rewritten to {@code \frac}.
     * Returns empty for anything else, including a zero denominator.
     */
    static Optional<Rational> parse(String text) {
        Matcher decimal = DECIMAL.matcher(text);
        if (decimal.matches()) {
            return Optional.of(signed(decimal.group(1), ofDecimal(decimal.group(2))));
        }

        Matcher slash = SLASH_FRACTION.matcher(text);
        if (slash.matches()) {
            return divide(signed(slash.group(1), ofDecimal(slash.group(2))), ofDecimal(slash.group(3)));
        }

        Matcher latex = LATEX_FRACTION.matcher(text);
        if (latex.matches()) {
            boolean braced = latex.group(2) != null;
            String numerator = braced ? latex.group(2) : latex.group(4);
            String denominator = braced ? latex.group(3) : latex.group(5);
            return divide(signed(latex.group(1), ofSignedDecimal(numerator)), ofSignedDecimal(denominator));
        }
        return Optional.empty();
    }

    private static Rational ofSignedDecimal(String text) {
        if (text.startsWith("-")) {
            return ofDecimal(text.substring(1)).negate();
        }
        if (text.startsWith("+")) {
            return ofDecimal(text.substring(1));
        }
        return ofDecimal(text);
    }

    /** Converts unsigned digits, possibly with thousands separators and a decimal point, exactly. */
    private static Rational ofDecimal(String digits) {
        BigDecimal value = new BigDecimal(digits.replace(",", ""));
        return new Rational(value.unscaledValue(), BigInteger.TEN.pow(value.scale()));
    }

    private static Rational signed(String sign, Rational value) {
        return sign.equals("-") ? value.negate() : value;
    }

    private static Optional<Rational> divide(Rational dividend, Rational divisor) {
        if (divisor.numerator.signum() == 0) {
            return Optional.empty();
        }
        return Optional.of(new Rational(
                dividend.numerator.multiply(divisor.denominator),
                dividend.denominator.multiply(divisor.numerator)));
    }

    private Rational negate() {
        return new Rational(numerator.negate(), denominator);
    }
}
