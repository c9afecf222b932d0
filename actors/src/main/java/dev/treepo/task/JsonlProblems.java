package dev.treepo.task;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loader of user problems from a JSON Lines file: one JSON object per line, blank lines skipped.
 *
 * <p>Fields of each object:
 * <ul>
 *   <li>{@code problem}, or its alias {@code question}: the question text (required).</li>
 *   <li>{@code answer}: the reference answer, a string or a number. A string that contains a complete
 *       {@code \boxed{...}} or a {@code ####} marker is a worked solution instead, as in GSM8K, whose
 *       {@code answer} field is the whole solution ending in {@code #### 18}.</li>
 *   <li>{@code solution}: a worked solution. Without an {@code answer} field, the answer is the
 *       content of its last complete {@code \boxed{...}}, or else the text after its last
 *       {@code ####}.</li>
 *   <li>{@code id} or {@code unique_id} (optional): the problem id. The default is
 *       {@code <file name>:<line number>}.</li>
 *   <li>{@code level} (optional): a number or a string such as {@code "Level 3"}, as in MATH. The
 *       default is 0, unknown.</li>
 * </ul>
 * Other fields are ignored.
 *
 * <p>Solutions are stored so that they end in a box, as {@link Problem#solution()} requires. In a
 * GSM8K solution the calculator annotations such as {@code <<16-3-4=9>>} are removed and the final
 * {@code #### 18} becomes {@code \boxed{18}}. A solution with an explicit answer but no box gets
 * {@code \boxed{answer}} appended.
 */
public final class JsonlProblems {

    private static final Logger LOG = LoggerFactory.getLogger(JsonlProblems.class);

    /** Trailing tokens after the object, as in {@code {"a": 1} x}, make the line invalid. */
    private static final ObjectMapper MAPPER =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** GSM8K's marker before the final answer, on the last line of a solution. */
    private static final String FINAL_ANSWER_MARKER = "####";
    /** GSM8K's calculator annotation, for example {@code <<16-3-4=9>>}. */
    private static final Pattern CALCULATOR_ANNOTATION = Pattern.compile("<<[^<>\\n]*>>");
    private static final Pattern LEVEL = Pattern.compile("(?:Level\\s*)?(\\d+)", Pattern.CASE_INSENSITIVE);
    private static final String EXAMPLE_LINE = "{\"problem\": \"What is 2+3?\", \"answer\": \"5\"}";
    private static final char BYTE_ORDER_MARK = '\uFEFF';

    private JsonlProblems() {
    }

    /**
     * Reads every problem in {@code file}, a UTF-8 JSON Lines file, in file order.
     *
     * @throws IllegalArgumentException when a line is invalid or the file has no problem. The message
     *                                  names the file, the 1-based line number, the fault and the fix.
     * @throws IOException              when the file cannot be read or is not valid UTF-8
     */
    public static List<Problem> load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "problem file not found or not a regular file");
        }

        List<Problem> problems = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        int lineNumber = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = readLine(reader, file)) != null) {
                lineNumber++;
                if (lineNumber == 1 && !line.isEmpty() && line.charAt(0) == BYTE_ORDER_MARK) {
                    line = line.substring(1);
                }
                if (line.isBlank()) {
                    continue;
                }

                Problem problem = parseLine(line, new Location(file, lineNumber));
                if (!ids.add(problem.id())) {
                    throw new Location(file, lineNumber).invalid("duplicate id \"" + problem.id() + "\"",
                            "give every problem its own \"id\", or remove the field to use the line number");
                }
                problems.add(problem);
            }
        }

        if (problems.isEmpty()) {
            throw new IllegalArgumentException("Problem file " + file + " contains no problems: add one JSON object"
                    + " per line, such as " + EXAMPLE_LINE + ".");
        }
        LOG.info("Loaded {} problems from {}", problems.size(), file);
        return problems;
    }

    /** File and 1-based line number of the line being parsed, for error messages. */
    private record Location(Path file, int lineNumber) {

        IllegalArgumentException invalid(String fault, String fix) {
            return new IllegalArgumentException(file + ":" + lineNumber + ": " + fault + ". To fix it, " + fix + ".");
        }
    }

    private static String readLine(BufferedReader reader, Path file) throws IOException {
        try {
            return reader.readLine();
        } catch (CharacterCodingException e) {
            // The reader decodes ahead of the line it returns, so find the line again byte by byte.
            throw new IOException(file + ":" + firstInvalidUtf8Line(file)
                    + ": invalid UTF-8. Save the problem file as UTF-8.", e);
        }
    }

    /** Returns the 1-based number of the first line that is not valid UTF-8, or 0 if none is found. */
    private static int firstInvalidUtf8Line(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int lineNumber = 1;
        int lineStart = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length || bytes[i] == '\n') {
                try {
                    StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes, lineStart, i - lineStart));
                } catch (CharacterCodingException e) {
                    return lineNumber;
                }
                lineNumber++;
                lineStart = i + 1;
            }
        }
        return 0;
    }

    private static Problem parseLine(String line, Location location) {
        JsonNode node;
        try {
            node = MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw location.invalid("invalid JSON (" + e.getOriginalMessage() + ")",
                    "write one complete JSON object per line, such as " + EXAMPLE_LINE);
        }
        if (!node.isObject()) {
            throw location.invalid("expected a JSON object, got " + node.getNodeType().name().toLowerCase(Locale.ROOT),
                    "write one JSON object per line, such as " + EXAMPLE_LINE);
        }

        String question = requiredQuestion(node, location);
        String answerField = optionalText(node, "answer", location);
        String solutionField = optionalText(node, "solution", location);
        String id = optionalText(node, "id", location);
        if (id == null) {
            id = optionalText(node, "unique_id", location);
        }
        if (id == null) {
            id = location.file().getFileName() + ":" + location.lineNumber();
        }
        int level = level(node, location);

        if (solutionField != null) {
            String answer;
            if (answerField == null) {
                answer = finalAnswer(solutionField, "solution", location);
            } else if (isWorkedSolution(answerField)) {
                answer = finalAnswer(answerField, "answer", location);
            } else {
                answer = answerField;
            }
            return new Problem(id, question, answer, boxedSolution(solutionField, answer), level);
        }
        if (answerField == null) {
            throw location.invalid("missing field \"answer\" or \"solution\"",
                    "add the reference answer as \"answer\", or a worked solution ending in \\boxed{...} as"
                            + " \"solution\"");
        }
        if (isWorkedSolution(answerField)) {
            String answer = finalAnswer(answerField, "answer", location);
            return new Problem(id, question, answer, boxedSolution(answerField, answer), level);
        }
        return new Problem(id, question, answerField, "", level);
    }

    private static String requiredQuestion(JsonNode node, Location location) {
        String problem = optionalText(node, "problem", location);
        String question = problem != null ? problem : optionalText(node, "question", location);
        if (question == null) {
            throw location.invalid("missing field \"problem\"",
                    "add the question text as \"problem\" (or \"question\")");
        }
        return question;
    }

    /**
     * Returns the field as text, or null when it is absent or JSON null. Numbers are accepted as their
     * JSON spelling. Blank strings, objects, arrays and booleans are rejected.
     */
    private static String optionalText(JsonNode node, String field, Location location) {
        JsonNode value = node.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual() && !value.isNumber()) {
            throw location.invalid("field \"" + field + "\" has type " + value.getNodeType().name().toLowerCase(Locale.ROOT)
                    + ", expected a string or number", "write \"" + field + "\" as a JSON string");
        }
        String text = value.asText();
        if (text.isBlank()) {
            throw location.invalid("field \"" + field + "\" is empty", "fill it in or remove the field");
        }
        return text;
    }

    private static int level(JsonNode node, Location location) {
        JsonNode value = node.get("level");
        if (value == null || value.isNull()) {
            return 0;
        }
        Matcher matcher = LEVEL.matcher(value.asText().trim());
        if (value.isIntegralNumber() || (value.isTextual() && matcher.matches())) {
            String digits = value.isIntegralNumber() ? value.asText() : matcher.group(1);
            try {
                int level = Integer.parseInt(digits);
                if (level >= 0) {
                    return level;
                }
            } catch (NumberFormatException e) {
                // too many digits for an int: reported below like any other invalid level
            }
        }
        throw location.invalid("invalid \"level\" " + value,
                "use a whole number from 0 (unknown) upwards, or a string such as \"Level 3\"");
    }

    private static boolean isWorkedSolution(String text) {
        return BoxedAnswer.extractLast(text).isPresent() || text.contains(FINAL_ANSWER_MARKER);
    }

    /** Returns the last complete box's content, or else the text after the last {@code ####}. */
    private static String finalAnswer(String solution, String field, Location location) {
        Optional<String> boxed = BoxedAnswer.extractLast(solution);
        if (boxed.isPresent() && !boxed.get().isBlank()) {
            return boxed.get().trim();
        }

        int marker = solution.lastIndexOf(FINAL_ANSWER_MARKER);
        if (marker >= 0) {
            String answer = firstLine(solution.substring(marker + FINAL_ANSWER_MARKER.length())).trim();
            if (!answer.isEmpty()) {
                return answer;
            }
        }
        throw location.invalid("no answer in field \"" + field + "\": it has no non-empty \\boxed{...} and no"
                + " answer after \"" + FINAL_ANSWER_MARKER + "\"",
                "end the solution with \\boxed{answer} or \"#### answer\", or add an \"answer\" field");
    }

    /** Rewrites a solution so that it ends in {@code \boxed{answer}}, as described in the class comment. */
    private static String boxedSolution(String solution, String answer) {
        if (BoxedAnswer.extractLast(solution).isPresent()) {
            return solution;
        }
        int marker = solution.lastIndexOf(FINAL_ANSWER_MARKER);
        if (marker >= 0) {
            String body = CALCULATOR_ANNOTATION.matcher(solution.substring(0, marker)).replaceAll("");
            return body + BoxedAnswer.wrap(answer);
        }
        return solution + " " + BoxedAnswer.wrap(answer);
    }

    private static String firstLine(String text) {
        int end = text.indexOf('\n');
        return end < 0 ? text : text.substring(0, end);
    }
}
