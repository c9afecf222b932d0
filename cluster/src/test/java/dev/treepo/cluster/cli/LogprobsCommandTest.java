package dev.treepo.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LogprobsCommandTest {

    private static Path referenceFolder() {
        Path folder = Path.of(System.getProperty("treepo.shared.dir", "../shared"), "testdata", "qwen2-tiny", "tied-f32");
        assumeTrue(Files.isDirectory(folder), "reference checkpoints not found at " + folder);
        return folder;
    }

    @Test
    void logprobsMatchReferenceLogits() throws Exception {
        Path folder = referenceFolder();
        JsonNode reference = new ObjectMapper().readTree(folder.resolve("reference.json").toFile());
        JsonNode sequence = reference.get("sequences").get(2);
        JsonNode logits = reference.get("logits").get(2);
        int[] ids = new int[sequence.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = sequence.get(i).asInt();
        }

        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int code = LogprobsCommand.run(folder, ids, new PrintStream(buffer, true, StandardCharsets.UTF_8));
        assertEquals(0, code);
        JsonNode result = new ObjectMapper().readTree(buffer.toString(StandardCharsets.UTF_8));

        assertTrue(result.get("logprobs").get(0).isNull());
        for (int t = 0; t + 1 < ids.length; t++) {
            JsonNode row = logits.get(t);
            double max = Double.NEGATIVE_INFINITY;
            int best = 0;
            for (int v = 0; v < row.size(); v++) {
                if (row.get(v).asDouble() > max) {
                    max = row.get(v).asDouble();
                    best = v;
                }
            }
            double sum = 0;
            for (int v = 0; v < row.size(); v++) {
                sum += Math.exp(row.get(v).asDouble() - max);
            }
            double expected = row.get(ids[t + 1]).asDouble() - max - Math.log(sum);
            assertEquals(expected, result.get("logprobs").get(t + 1).asDouble(), 1e-4, "position " + (t + 1));
            assertEquals(best, result.get("argmax").get(t).asInt(), "argmax at position " + t);
        }
    }

    @Test
    void idOutsideVocabularyIsRejected() {
        Path folder = referenceFolder();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> LogprobsCommand.run(folder, new int[] {1, 100000}, System.out));
        assertTrue(error.getMessage().contains("100000"), error.getMessage());
    }

    @Test
    void invalidIdListIsRejected() {
        IllegalArgumentException error =
                assertThrows(IllegalArgumentException.class, () -> LogprobsCommand.parseIds("1,x,3"));
        assertTrue(error.getMessage().contains("\"x\""), error.getMessage());
    }

    @Test
    void missingOptionsAreUsageErrors() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(2, Main.run(new String[] {"logprobs", "--ids", "1,2"}, out, errStream, Path.of(".")));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--model"));
        assertEquals(2, Main.run(new String[] {"train", "--model", "x"}, out, errStream, Path.of(".")));
    }
}
