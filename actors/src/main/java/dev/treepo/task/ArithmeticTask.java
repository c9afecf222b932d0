package dev.treepo.task;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The built-in task: integer arithmetic problems generated from a seed, each with a short worked
 * solution that ends in {@code \boxed{answer}}.
 *
 * <p>Levels, with examples of question and solution:
 * <ol>
 *   <li>addition: {@code 23+45} gives {@code "23+45=\boxed{68}"}</li>
 *   <li>subtraction, which may go negative, or a one-digit product: {@code 23-45} gives
 *       {@code "23-45=\boxed{-22}"}, {@code 7*8} gives {@code "7*8=\boxed{56}"}</li>
 *   <li>two operations with at least one product, so that precedence matters: {@code 7+6*3} gives
 *       {@code "6*3=18. 7+18=\boxed{25}"}</li>
 *   <li>half of the problems have three operations with at least one product. The other half
 *       multiply a two-digit number by a one-digit one whose units product carries, worked through
 *       tens and units: {@code 47*6} gives {@code "40*6=240. 7*6=42. 240+42=\boxed{282}"}</li>
 * </ol>
 * With the limits below every solution is shorter than 60 characters.
 *
 * <p>The split between training and evaluation depends only on a hash of the question text, so no
 * evaluation question appears in a training set of any seed or size. Within one split a question may
 * repeat, most often among the one-digit products of level 2 (64 questions in all) and the carry
 * products of level 4 (522), of which about one in eight belongs to the evaluation split.
 *
 * <p>Problem {@code i} of a list has level {@code 1 + i % 4}, so levels are mixed evenly. Lists are
 * deterministic for a seed, and a shorter list is a prefix of a longer one with the same seed,
 * because {@link Random} draws the same sequence from a seed on every Java version.
 */
public final class ArithmeticTask {

    // Difficulty knobs. Raising a maximum widens the question space of its level and lengthens the
    // worked solutions, which must stay well inside the 512-token context of the built-in model.
    /** Level 1: largest operand of a sum. */
    static final int MAX_SUM_OPERAND = 99;
    /** Level 2: largest operand of a difference. */
    static final int MAX_DIFFERENCE_OPERAND = 99;
    /** Levels 3 and 4: largest operand that is added or subtracted. */
    static final int MAX_CHAIN_TERM = 20;
    /** Levels 2 to 4: range of one-digit factors. 0 and 1 are left out as trivial. */
    static final int MIN_FACTOR = 2;
    static final int MAX_FACTOR = 9;
    static final int LEVEL_COUNT = 4;

    /** One question in this many belongs to the evaluation split. */
    static final int EVAL_BUCKETS = 8;

    /** Bound on rejection sampling, far above the expected 8 draws, so that a bad limit fails fast. */
    private static final int MAX_DRAWS_PER_PROBLEM = 10_000;
    private static final long TRAIN_STREAM = 0x54524149L; // "TRAI"
    private static final long EVAL_STREAM = 0x4556414cL; // "EVAL"
    private static final char[] OPERATORS = {'+', '-', '*'};

    private ArithmeticTask() {
    }

    /** Generates {@code count} training problems from {@code seed}. */
    public static List<Problem> train(long seed, int count) {
        return generate("train", seed, count, false);
    }

    /** Generates {@code count} evaluation problems from {@code seed}, none of which any training set has. */
    public static List<Problem> eval(long seed, int count) {
        return generate("eval", seed, count, true);
    }

    /**
     * Returns whether a question belongs to the evaluation split: its 64-bit FNV-1a hash over the
     * UTF-8 bytes, mixed by the SplitMix64 finalizer, falls in bucket 0 of {@link #EVAL_BUCKETS}.
     */
    static boolean isEvalQuestion(String question) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : question.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        // FNV-1a alone spreads short strings poorly over the low bits that the modulo reads.
        hash = (hash ^ (hash >>> 30)) * 0xbf58476d1ce4e5b9L;
        hash = (hash ^ (hash >>> 27)) * 0x94d049bb133111ebL;
        hash ^= hash >>> 31;
        return Long.remainderUnsigned(hash, EVAL_BUCKETS) == 0;
    }

    private static List<Problem> generate(String split, long seed, int count, boolean evalSplit) {
        if (count < 0) {
            throw new IllegalArgumentException("Invalid " + split + " problem count " + count + ": use 0 or more.");
        }
        Random random = new Random(seed ^ (evalSplit ? EVAL_STREAM : TRAIN_STREAM));
        List<Problem> problems = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int level = 1 + i % LEVEL_COUNT;
            String id = "arithmetic-" + split + "-" + seed + "-" + i;

            problems.add(drawInSplit(random, id, level, evalSplit));
        }
        return problems;
    }

    /**
     * Draws until the question falls in the requested split: on average about 8 draws for an
     * evaluation problem and 8/7 for a training problem.
     */
    private static Problem drawInSplit(Random random, String id, int level, boolean evalSplit) {
        for (int attempt = 0; attempt < MAX_DRAWS_PER_PROBLEM; attempt++) {
            Problem problem = draw(random, id, level);
            if (isEvalQuestion(problem.question()) == evalSplit) {
                return problem;
            }
        }
        throw new IllegalStateException("No " + (evalSplit ? "evaluation" : "training") + " question found at level "
                + level + " in " + MAX_DRAWS_PER_PROBLEM + " draws: the level's question space is too small,"
                + " so raise its limits in ArithmeticTask.");
    }

    private static Problem draw(Random random, String id, int level) {
        return switch (level) {
            case 1 -> chainProblem(id, level, List.of(uniform(random, 0, MAX_SUM_OPERAND),
                    uniform(random, 0, MAX_SUM_OPERAND)), List.of('+'));
            case 2 -> random.nextBoolean()
                    ? chainProblem(id, level, List.of(uniform(random, 0, MAX_DIFFERENCE_OPERAND),
                            uniform(random, 0, MAX_DIFFERENCE_OPERAND)), List.of('-'))
                    : chainProblem(id, level, List.of(factor(random), factor(random)), List.of('*'));
            case 3 -> operationChain(random, id, level, 2);
            case 4 -> random.nextBoolean()
                    ? operationChain(random, id, level, 3)
                    : carryProduct(random, id, level);
            default -> throw new IllegalStateException("Internal error: no generator for level " + level + ".");
        };
    }

    /** Draws {@code operationCount} operators with at least one product, then operands to suit them. */
    private static Problem operationChain(Random random, String id, int level, int operationCount) {
        List<Character> operators = new ArrayList<>(operationCount);
        while (!operators.contains('*')) {
            operators.clear();
            for (int i = 0; i < operationCount; i++) {
                operators.add(OPERATORS[random.nextInt(OPERATORS.length)]);
            }
        }

        // An operand next to a '*' is a one-digit factor, so that products stay small.
        List<Long> operands = new ArrayList<>(operationCount + 1);
        for (int i = 0; i <= operationCount; i++) {
            boolean isFactor = (i > 0 && operators.get(i - 1) == '*')
                    || (i < operationCount && operators.get(i) == '*');
            operands.add(isFactor ? factor(random) : uniform(random, 0, MAX_CHAIN_TERM));
        }
        return chainProblem(id, level, operands, operators);
    }

    /** Draws a two-digit number times a one-digit factor whose units product is 10 or more. */
    private static Problem carryProduct(Random random, String id, int level) {
        int tens;
        int units;
        int factor;
        do {
            tens = (int) uniform(random, 1, 9);
            units = (int) uniform(random, MIN_FACTOR, 9);
            factor = (int) factor(random);
        } while (units * factor < 10);

        String question = (10 * tens + units) + "*" + factor;
        WorkedSolution worked = WorkedSolution.multiplyByParts(tens, units, factor);
        return new Problem(id, question, Long.toString(worked.value()), worked.text(), level);
    }

    private static Problem chainProblem(String id, int level, List<Long> operands, List<Character> operators) {
        StringBuilder question = new StringBuilder().append(operands.get(0));
        for (int i = 0; i < operators.size(); i++) {
            question.append(operators.get(i)).append(operands.get(i + 1));
        }
        WorkedSolution worked = WorkedSolution.evaluate(operands, operators);
        return new Problem(id, question.toString(), Long.toString(worked.value()), worked.text(), level);
    }

    private static long factor(Random random) {
        return uniform(random, MIN_FACTOR, MAX_FACTOR);
    }

    /** Draws uniformly from {@code min} to {@code max}, both included. */
    private static long uniform(Random random, int min, int max) {
        return min + random.nextInt(max - min + 1);
    }
}
