package dev.treepo.task;

import java.util.ArrayList;
import java.util.List;

/**
 * Step-by-step arithmetic in plain ASCII, as the built-in task writes its solutions: one
 * {@code "a op b=c. "} step per operation, except that the last step writes its result inside
 * the box, {@code "a op b=\boxed{value}"}. The answer then appears once, so a sampled solution can
 * never box a number that differs from its own last step, and a reward on the box rewards the
 * arithmetic itself.
 *
 * @param text  the whole worked solution
 * @param value the final value, equal to the number in the box
 */
record WorkedSolution(String text, long value) {

    /**
     * Evaluates a flat expression over {@code +}, {@code -} and {@code *} with the usual precedence.
     * Products are worked first, leftmost first, then sums and differences left to right, so
     * {@code 7+6*3} gives {@code "6*3=18. 7+18=\boxed{25}"}.
     *
     * @param operands  the numbers, one more than {@code operators}
     * @param operators the operators, each {@code '+'}, {@code '-'} or {@code '*'}
     */
    static WorkedSolution evaluate(List<Long> operands, List<Character> operators) {
        if (operands.size() != operators.size() + 1) {
            throw new IllegalArgumentException("Invalid expression: " + operands.size() + " operands need "
                    + (operands.size() - 1) + " operators, got " + operators.size() + ".");
        }
        List<Long> values = new ArrayList<>(operands);
        List<Character> pending = new ArrayList<>(operators);
        StringBuilder text = new StringBuilder();

        // products first: each step folds one operator and its right operand into the left operand
        int product = pending.indexOf('*');
        while (product >= 0) {
            long result = values.get(product) * values.get(product + 1);
            appendStep(text, values.get(product), '*', values.get(product + 1), result);
            values.set(product, result);
            values.remove(product + 1);
            pending.remove(product);
            product = pending.indexOf('*');
        }

        // then sums and differences, left to right
        long total = values.get(0);
        for (int i = 0; i < pending.size(); i++) {
            char operator = pending.get(i);
            long right = values.get(i + 1);
            long result = switch (operator) {
                case '+' -> total + right;
                case '-' -> total - right;
                default -> throw new IllegalArgumentException("Invalid operator '" + operator
                        + "' in expression: use '+', '-' or '*'.");
            };
            appendStep(text, total, operator, right, result);
            total = result;
        }
        return finish(text, total);
    }

    /**
     * Multiplies a two-digit number by a one-digit factor through its tens and units, for example
     * {@code 47*6} gives {@code "40*6=240. 7*6=42. 240+42=\boxed{282}"}.
     */
    static WorkedSolution multiplyByParts(int tens, int units, int factor) {
        StringBuilder text = new StringBuilder();
        long tensProduct = 10L * tens * factor;
        long unitsProduct = (long) units * factor;
        appendStep(text, 10L * tens, '*', factor, tensProduct);
        appendStep(text, units, '*', factor, unitsProduct);
        appendStep(text, tensProduct, '+', unitsProduct, tensProduct + unitsProduct);
        return finish(text, tensProduct + unitsProduct);
    }

    private static void appendStep(StringBuilder text, long left, char operator, long right, long result) {
        text.append(left).append(operator).append(right).append('=').append(result).append(". ");
    }

    private static WorkedSolution finish(StringBuilder text, long value) {
        String lastResult = value + ". ";
        if (text.length() >= lastResult.length() && text.toString().endsWith("=" + lastResult)) {
            text.setLength(text.length() - lastResult.length());
        }
        text.append(BoxedAnswer.wrap(Long.toString(value)));
        return new WorkedSolution(text.toString(), value);
    }
}
