package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ArithmeticTaskTest {

    /** One worked step such as "6*3=18. " or "7-18=-11. ", where only a result may be negative. */
    private static final Pattern STEP = Pattern.compile("(-?\\d+)([+*-])(\\d+)=(-?\\d+)\\. ");
    private static final Pattern QUESTION = Pattern.compile("\\d+(?:[+*-]\\d+){1,3}");

    @Test
    void sameSeedGivesSameProblems() {
        assertEquals(ArithmeticTask.train(11, 500), ArithmeticTask.train(11, 500));
        assertEquals(ArithmeticTask.eval(11, 200), ArithmeticTask.eval(11, 200));
    }

    @Test
    void otherSeedGivesOtherProblems() {
        assertNotEquals(questions(ArithmeticTask.train(11, 100)), questions(ArithmeticTask.train(12, 100)));
        assertNotEquals(questions(ArithmeticTask.eval(11, 100)), questions(ArithmeticTask.eval(12, 100)));
    }

    @Test
    void shorterListIsPrefixOfLonger() {
        List<Problem> longer = ArithmeticTask.train(3, 400);

        assertEquals(longer.subList(0, 100), ArithmeticTask.train(3, 100));
        assertEquals(ArithmeticTask.eval(3, 400).subList(0, 40), ArithmeticTask.eval(3, 40));
    }

    @Test
    void trainingAndEvaluationAreDisjoint() {
        Set<String> evalQuestions = new HashSet<>();
        for (long seed = 0; seed < 3; seed++) {
            evalQuestions.addAll(questions(ArithmeticTask.eval(seed, 2_000)));
        }
        for (long seed = 0; seed < 3; seed++) {
            for (Problem problem : ArithmeticTask.train(seed, 50_000)) {
                assertFalse(evalQuestions.contains(problem.question()),
                        () -> "evaluation question in training set: " + problem);
                assertFalse(ArithmeticTask.isEvalQuestion(problem.question()), problem::toString);
            }
        }
        for (String question : evalQuestions) {
            assertTrue(ArithmeticTask.isEvalQuestion(question), question);
        }
    }

    @Test
    void evaluationShareIsNearOneEighth() {
        int evalCount = 0;
        int total = 0;
        for (int a = 0; a <= ArithmeticTask.MAX_SUM_OPERAND; a++) {
            for (int b = 0; b <= ArithmeticTask.MAX_SUM_OPERAND; b++) {
                total++;
                if (ArithmeticTask.isEvalQuestion(a + "+" + b)) {
                    evalCount++;
                }
            }
        }
        double share = (double) evalCount / total;

        assertTrue(share > 0.10, "eval share of level-1 questions: " + share);
        assertTrue(share < 0.15, "eval share of level-1 questions: " + share);
    }

    @Test
    void levelsAreMixedEvenly() {
        Map<Integer, Integer> counts = new TreeMap<>();
        for (Problem problem : ArithmeticTask.train(5, 1_000)) {
            counts.merge(problem.level(), 1, Integer::sum);
        }

        assertEquals(Map.of(1, 250, 2, 250, 3, 250, 4, 250), counts);
    }

    @Test
    void everySolutionIsCorrectAndShort() {
        List<Problem> problems = new ArrayList<>(ArithmeticTask.train(9, 20_000));
        problems.addAll(ArithmeticTask.eval(9, 2_000));

        int longest = 0;
        for (Problem problem : problems) {
            checkProblem(problem);
            longest = Math.max(longest, problem.solution().length());
        }
        assertTrue(longest < 60, "longest solution: " + longest + " characters");
    }

    @Test
    void idsAreUniqueWithinSplit() {
        List<Problem> problems = ArithmeticTask.train(4, 2_000);
        Set<String> ids = new HashSet<>();
        for (Problem problem : problems) {
            ids.add(problem.id());
        }

        assertEquals(problems.size(), ids.size());
        assertEquals("arithmetic-train-4-0", problems.get(0).id());
    }

    @Test
    void levelsHaveExpectedShapes() {
        List<Problem> problems = ArithmeticTask.train(21, 4_000);
        boolean sawCarryProduct = false;
        boolean sawThreeOperations = false;
        for (Problem problem : problems) {
            int operators = problem.question().replaceAll("\\d", "").length();
            switch (problem.level()) {
                case 1 -> assertTrue(problem.question().matches("\\d{1,2}\\+\\d{1,2}"), problem::toString);
                case 2 -> assertTrue(problem.question().matches("\\d{1,2}-\\d{1,2}|[2-9]\\*[2-9]"), problem::toString);
                case 3 -> {
                    assertEquals(2, operators, problem::toString);
                    assertTrue(problem.question().contains("*"), problem::toString);
                }
                case 4 -> {
                    if (operators == 1) {
                        sawCarryProduct = true;
                        assertTrue(problem.question().matches("[1-9]\\d\\*[2-9]"), problem::toString);
                        int units = problem.question().charAt(1) - '0';
                        int factor = problem.question().charAt(3) - '0';
                        assertTrue(units * factor >= 10, () -> "no carry in " + problem);
                    } else {
                        sawThreeOperations = true;
                        assertEquals(3, operators, problem::toString);
                        assertTrue(problem.question().contains("*"), problem::toString);
                    }
                }
                default -> throw new AssertionError("unexpected level in " + problem);
            }
        }
        assertTrue(sawCarryProduct, "level 4 has two-digit products");
        assertTrue(sawThreeOperations, "level 4 has three-operation chains");
    }

    @Test
    void documentedExamplesAreWorkedAsShown() {
        assertEquals("23+45=\\boxed{68}",
                WorkedSolution.evaluate(List.of(23L, 45L), List.of('+')).text());
        assertEquals("6*3=18. 7+18=\\boxed{25}",
                WorkedSolution.evaluate(List.of(7L, 6L, 3L), List.of('+', '*')).text());
        assertEquals("6*3=18. 7-18=\\boxed{-11}",
                WorkedSolution.evaluate(List.of(7L, 6L, 3L), List.of('-', '*')).text());
        assertEquals("2*3=6. 4*5=20. 6+20=\\boxed{26}",
                WorkedSolution.evaluate(List.of(2L, 3L, 4L, 5L), List.of('*', '+', '*')).text());
        assertEquals("40*6=240. 7*6=42. 240+42=\\boxed{282}",
                WorkedSolution.multiplyByParts(4, 7, 6).text());
    }

    @Test
    void negativeCountIsRejected() {
        IllegalArgumentException error =
                assertThrows(IllegalArgumentException.class, () -> ArithmeticTask.train(1, -1));

        assertTrue(error.getMessage().contains("-1"), error.getMessage());
        assertEquals(List.of(), ArithmeticTask.eval(1, 0));
    }

    /** Recomputes the question independently and replays every worked step. */
    private static void checkProblem(Problem problem) {
        assertTrue(QUESTION.matcher(problem.question()).matches(), problem::toString);
        long expected = evaluateWithPrecedence(problem.question());
        assertEquals(Long.toString(expected), problem.answer(), problem::toString);
        assertEquals(Optional.of(problem.answer()), BoxedAnswer.extractLast(problem.solution()), problem::toString);
        // The last step writes its result inside the box; rewrite it as a plain step to replay it.
        String boxedStep = "=" + BoxedAnswer.wrap(problem.answer());
        assertTrue(problem.solution().endsWith(boxedStep), problem::toString);
        String steps = problem.solution().substring(0, problem.solution().length() - boxedStep.length())
                + "=" + problem.answer() + ". ";
        Matcher step = STEP.matcher(steps);
        int end = 0;
        long lastResult = Long.MIN_VALUE;
        while (step.find()) {
            assertEquals(end, step.start(), () -> "unparsed text in solution of " + problem);
            long left = Long.parseLong(step.group(1));
            long right = Long.parseLong(step.group(3));
            long result = Long.parseLong(step.group(4));
            long computed = switch (step.group(2)) {
                case "+" -> left + right;
                case "-" -> left - right;
                default -> left * right;
            };
            assertEquals(computed, result, () -> "wrong step '" + step.group() + "' in " + problem);
            end = step.end();
            lastResult = result;
        }
        assertEquals(steps.length(), end, () -> "unparsed text in solution of " + problem);
        assertEquals(expected, lastResult, () -> "last step is not the answer in " + problem);
    }

    /** Evaluates digits joined by +, - and * with * binding tighter, independently of WorkedSolution. */
    private static long evaluateWithPrecedence(String expression) {
        long sum = 0;
        for (String signedTerm : expression.replace("-", "+-").split("\\+")) {
            long sign = signedTerm.startsWith("-") ? -1 : 1;
            long product = 1;
            for (String factor : signedTerm.replace("-", "").split("\\*")) {
                product *= Long.parseLong(factor);
            }
            sum += sign * product;
        }
        return sum;
    }

    private static List<String> questions(List<Problem> problems) {
        List<String> questions = new ArrayList<>();
        for (Problem problem : problems) {
            questions.add(problem.question());
        }
        return questions;
    }
}
