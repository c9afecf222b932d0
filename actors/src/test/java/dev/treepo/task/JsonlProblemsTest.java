package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JsonlProblemsTest {

    @TempDir
    Path folder;

    @Test
    void loadReadsAnswerAndSolutionForms() throws IOException {
        Path file = write("mixed.jsonl",
                "{\"problem\": \"What is 2+3?\", \"answer\": \"5\"}",
                "",
                "   ",
                "{\"question\": \"Half of 1?\", \"solution\": \"1/2 = \\\\boxed{\\\\frac{1}{2}}\", \"level\": 2}",
                "{\"problem\": \"Count\", \"answer\": 18, \"id\": \"q-7\", \"level\": \"Level 3\"}",
                "{\"problem\": \"Sum\", \"solution\": \"3+4 is 7\", \"answer\": \"7\", \"subject\": \"x\"}");

        List<Problem> problems = JsonlProblems.load(file);

        assertEquals(List.of(
                new Problem("mixed.jsonl:1", "What is 2+3?", "5", "", 0),
                new Problem("mixed.jsonl:4", "Half of 1?", "\\frac{1}{2}", "1/2 = \\boxed{\\frac{1}{2}}", 2),
                new Problem("q-7", "Count", "18", "", 3),
                new Problem("mixed.jsonl:6", "Sum", "7", "3+4 is 7 \\boxed{7}", 0)), problems);
    }

    @Test
    void loadConvertsGsm8kSolutions() throws IOException {
        Path file = write("gsm.jsonl",
                "{\"question\": \"Eggs?\", \"answer\": \"She sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\\n"
                        + "She makes 9 * 2 = $<<9*2=18>>18.\\n#### 18\"}",
                "{\"question\": \"Big?\", \"solution\": \"It is 1,000+1,000=2,000\\n#### 2,000\"}");

        List<Problem> problems = JsonlProblems.load(file);

        assertEquals("18", problems.get(0).answer());
        assertEquals("She sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n\\boxed{18}",
                problems.get(0).solution());
        assertEquals("2,000", problems.get(1).answer());
        assertEquals("It is 1,000+1,000=2,000\n\\boxed{2,000}", problems.get(1).solution());
    }

    @Test
    void loadPrefersBoxOverMarker() throws IOException {
        Path file = write("both.jsonl",
                "{\"problem\": \"p\", \"solution\": \"#### 3 then \\\\boxed{4}\"}");

        assertEquals("4", JsonlProblems.load(file).get(0).answer());
    }

    @Test
    void loadSkipsByteOrderMark() throws IOException {
        Path file = write("bom.jsonl", "\uFEFF{\"problem\": \"p\", \"answer\": \"1\"}");

        assertEquals("p", JsonlProblems.load(file).get(0).question());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            invalid JSON         | {"problem": "p", "answer": "1"                  | invalid JSON
            trailing text        | {"problem": "p", "answer": "1"} x               | invalid JSON
            array line           | [1, 2]                                          | expected a JSON object, got array
            missing question     | {"answer": "1"}                                 | missing field "problem"
            missing answer       | {"problem": "p"}                                | missing field "answer" or "solution"
            solution no answer   | {"problem": "p", "solution": "it is 5"}         | no answer in field "solution"
            empty box            | {"problem": "p", "solution": "\\\\boxed{ }"}     | no answer in field "solution"
            empty marker         | {"problem": "p", "answer": "x\\n#### "}          | no answer in field "answer"
            empty answer         | {"problem": "p", "answer": " "}                 | field "answer" is empty
            object answer        | {"problem": "p", "answer": {"v": 1}}            | field "answer" has type object
            bad level            | {"problem": "p", "answer": "1", "level": "hard"} | invalid "level" "hard"
            negative level       | {"problem": "p", "answer": "1", "level": -2}    | invalid "level" -2
            """)
    void loadRejectsBadLineWithFileAndLine(String name, String badLine, String fault) throws IOException {
        Path file = write("bad.jsonl", "{\"problem\": \"ok\", \"answer\": \"1\"}", "", badLine);

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> JsonlProblems.load(file));

        String message = error.getMessage();
        assertTrue(message.startsWith(file + ":3: "), message);
        assertTrue(message.contains(fault), message);
        assertTrue(message.contains("To fix it, "), message);
    }

    @Test
    void loadRejectsDuplicateId() throws IOException {
        Path file = write("dup.jsonl",
                "{\"id\": \"a\", \"problem\": \"p\", \"answer\": \"1\"}",
                "{\"id\": \"a\", \"problem\": \"q\", \"answer\": \"2\"}");

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> JsonlProblems.load(file));

        assertTrue(error.getMessage().startsWith(file + ":2: duplicate id \"a\""), error.getMessage());
    }

    @Test
    void loadRejectsFileWithoutProblems() throws IOException {
        Path file = write("empty.jsonl", "", "  ");

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> JsonlProblems.load(file));

        assertTrue(error.getMessage().contains(file + " contains no problems"), error.getMessage());
    }

    @Test
    void loadRejectsMissingFile() {
        Path missing = folder.resolve("missing.jsonl");

        NoSuchFileException error = assertThrows(NoSuchFileException.class, () -> JsonlProblems.load(missing));

        assertTrue(error.getMessage().contains(missing.toString()), error.getMessage());
    }

    @Test
    void loadRejectsInvalidUtf8WithLine() throws IOException {
        Path file = folder.resolve("latin1.jsonl");
        // Enough valid lines that the reader's read-ahead reaches the bad line before returning line 1.
        byte[] first = "{\"problem\": \"p\", \"answer\": \"1\"}\n".repeat(40).getBytes(StandardCharsets.UTF_8);
        byte[] second = "{\"problem\": \"caf\u00e9\", \"answer\": \"1\"}\n".getBytes(StandardCharsets.ISO_8859_1);
        byte[] content = new byte[first.length + second.length];
        System.arraycopy(first, 0, content, 0, first.length);
        System.arraycopy(second, 0, content, first.length, second.length);
        Files.write(file, content);

        IOException error = assertThrows(IOException.class, () -> JsonlProblems.load(file));

        assertTrue(error.getMessage().startsWith(file + ":41: "), error.getMessage());
        assertTrue(error.getMessage().contains("invalid UTF-8"), error.getMessage());
    }

    @Test
    void loadReadsGsm8kTestSet() throws IOException {
        String shared = System.getProperty("treepo.shared.dir");
        assumeTrue(shared != null, "treepo.shared.dir is not set");
        Path file = Path.of(shared, "data", "gsm8k", "test.jsonl");
        assumeTrue(Files.isRegularFile(file), "GSM8K test set not found at " + file);

        List<Problem> problems = JsonlProblems.load(file);

        assertEquals(1319, problems.size());
        BoxedMatchReward reward = new BoxedMatchReward();
        for (Problem problem : problems) {
            assertFalse(problem.answer().isBlank(), problem::id);
            assertFalse(problem.solution().contains("<<"), problem::id);
            assertFalse(problem.solution().contains("####"), problem::id);
            assertEquals(Optional.of(problem.answer()), BoxedAnswer.extractLast(problem.solution()), problem::id);
            assertEquals(BoxedMatchReward.CORRECT, reward.score(problem, problem.solution()), problem::id);
        }
        assertEquals("18", problems.get(0).answer());
        assertEquals("test.jsonl:1", problems.get(0).id());
    }

    private Path write(String name, String... lines) throws IOException {
        Path file = folder.resolve(name);
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return file;
    }
}
