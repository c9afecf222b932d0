package dev.treepo.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.tokenizer.CharVocabulary;
import dev.treepo.task.PromptFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code treepo train model.path=DIR} on a Hugging Face folder: the reference tiny Qwen2 checkpoint
 * plus a character tokenizer with the ChatML tokens, so the prompts are ChatML and the final
 * checkpoint is written in shards.
 */
class HfFolderTrainTest {

    @TempDir
    Path tempDir;

    private static Path referenceModel() {
        String shared = System.getProperty("treepo.shared.dir", "");
        Path folder = Path.of(shared, "testdata", "qwen2-tiny", "tied-f32");
        Assumptions.assumeTrue(!shared.isEmpty() && Files.isDirectory(folder), "reference data not found: " + folder);
        return folder;
    }

    @Test
    void trainsOneRlStepFromHfFolder() throws IOException {
        Path source = referenceModel();
        Path model = Files.createDirectories(tempDir.resolve("model"));
        Files.copy(source.resolve("config.json"), model.resolve("config.json"));
        Files.copy(source.resolve("model.safetensors"), model.resolve("model.safetensors"));
        CharVocabulary.writeTokenizerJson(model.resolve("tokenizer.json"),
                List.of(PromptFormat.IM_START, PromptFormat.IM_END));
        Path runDir = tempDir.resolve("run");

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"train",
                "model.path=" + model, "run.dir=" + runDir,
                "train.steps=1", "train.prompts-per-step=2", "train.mini-batches=1",
                "advantage.max-rollouts-per-step=1",
                "task.train-size=20", "task.eval-size=2", "eval.max-problems=2", "eval.samples=1",
                "rollout.width=2", "rollout.root-divergence=1", "rollout.max-depth=2",
                "inference.kv.blocks=256", "inference.max-batch=16",
                "checkpoint.max-shard-bytes=100000"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), tempDir);

        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        Path last = runDir.resolve("final");
        assertTrue(Files.isRegularFile(last.resolve("model.safetensors.index.json")), "final checkpoint is sharded");
        assertFalse(Files.exists(last.resolve("model.safetensors")));
        try (Stream<Path> files = Files.list(last)) {
            long shards = files.filter(f -> f.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors"))
                    .count();
            assertTrue(shards > 1, "shards: " + shards);
        }
        assertEquals(Files.readString(model.resolve("tokenizer.json")), Files.readString(last.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(last.resolve("treepo_run.conf")));

        // No generation_config.json in the source: the run writes its stop ids, EOS and <|im_end|>.
        JsonNode generation = new ObjectMapper().readTree(last.resolve("generation_config.json").toFile());
        assertEquals("[0,100]", generation.path("eos_token_id").toString());

        ModelSource reloaded = ModelSource.load(last);
        assertEquals(CheckpointFiles.loadConfig(model), reloaded.config());
        assertEquals(CheckpointFiles.loadModel(model).keySet(), reloaded.weights().keySet());
        assertEquals(1, reloaded.policyVersion());
    }

    @Test
    void folderWithoutTokenizerNamesFileAndFix() {
        Path source = referenceModel();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"train", "model.path=" + source, "run.dir=" + tempDir.resolve("run")},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), tempDir);

        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, message);
        assertTrue(message.contains(source.resolve("tokenizer.json").toString()), message);
        assertTrue(message.contains("copy the model's tokenizer.json there"), message);
        assertFalse(Files.exists(tempDir.resolve("run")), "bad input leaves no run folder");
    }
}
