package dev.treepo.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code treepo eval --checkpoint RUN/final} without the run's settings reports the accuracy of the
 * run's evaluation after RL: the checkpoint carries the run's configuration (problems, seed, prompt
 * layout, sampling) and its stop ids.
 */
class EvalReproducibilityTest {

    @TempDir
    Path tempDir;

    /** Runs a command with System.out captured, because train and eval print their results there. */
    private String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream originalOut = System.out;
        int code;
        try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            code = Main.run(args, capture, new PrintStream(err, true, StandardCharsets.UTF_8), tempDir);
        } finally {
            System.setOut(originalOut);
        }
        assertEquals(0, code, String.join(" ", args) + ": " + err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }

    /**
     * Writes problems whose answer is 7 for seven in ten and 4 otherwise, whatever the question. A few
     * warm-up steps teach the model to box a digit. Greedy decoding then scores the share of 7s, and
     * sampling scores a fraction that depends on every sampled token. The arithmetic task would score
     * 0 everywhere after such a short run.
     */
    private Path writeProblems(String name, int count) throws IOException {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < count; i++) {
            int answer = i % 10 < 7 ? 7 : 4;
            lines.append("{\"problem\": \"Pick number ").append(i).append("\", \"solution\": \"\\\\boxed{")
                    .append(answer).append("}\"}\n");
        }
        return Files.writeString(tempDir.resolve(name), lines.toString());
    }

    @Test
    void evalOfFinalCheckpointMatchesRunAfterEvaluation() throws IOException {
        Path runDir = tempDir.resolve("run");
        Path trainFile = writeProblems("train.jsonl", 200);
        Path evalFile = writeProblems("eval.jsonl", 12);
        run("train", "run.dir=" + runDir, "run.seed=5",
                "task.name=jsonl", "task.train-file=" + trainFile, "task.eval-file=" + evalFile,
                "warmup.steps=30", "warmup.batch-size=16",
                "train.steps=1", "train.prompts-per-step=2", "train.mini-batches=1",
                "advantage.max-rollouts-per-step=1",
                "task.train-size=200", "task.eval-size=12", "eval.max-problems=12", "eval.samples=3",
                "rollout.width=2", "rollout.root-divergence=1", "rollout.max-depth=3",
                "rollout.sampling.temperature=0.5",
                "inference.kv.blocks=512", "inference.max-batch=32");

        JsonNode evaluation = new ObjectMapper().readTree(runDir.resolve("eval.jsonl").toFile());
        JsonNode after = evaluation.path("after");
        String expected = String.format("12 problems: greedy pass@1 %.1f%% +- %.1f%%, mean over 3 samples %.1f%% +- %.1f%%",
                100 * after.path("greedy_accuracy").asDouble(), 100 * after.path("greedy_std_err").asDouble(),
                100 * after.path("sampled_accuracy").asDouble(), 100 * after.path("sampled_std_err").asDouble());

        // Only the checkpoint and the inference keys that keep the test fast. Without the saved run
        // settings, every other key would take its default: 400 problems, 4 samples, temperature 1, seed 7.
        String report = run("eval", "--checkpoint", runDir.resolve("final").toString(),
                "inference.kv.blocks=512", "inference.max-batch=32");

        assertTrue(report.contains(expected), "expected \"" + expected + "\" in: " + report);
        // A run that scores 0 everywhere would match without checking anything.
        assertTrue(after.path("sampled_accuracy").asDouble() > 0, evaluation.toString());
    }
}
