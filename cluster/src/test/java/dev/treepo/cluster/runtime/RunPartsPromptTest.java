package dev.treepo.cluster.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.config.SettingsLoader;
import dev.treepo.model.config.GenerationConfig;
import dev.treepo.model.tokenizer.CharVocabulary;
import dev.treepo.model.tokenizer.HfTokenizer;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.task.PromptFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunPartsPromptTest {

    @TempDir
    Path dir;

    private static Settings.Task task(String format) {
        return SettingsLoader.load(null, List.of("task.prompt-format=" + format, "task.system-prompt=\"Be brief.\""))
                .settings().task();
    }

    private Tokenizer charTokenizer(boolean chatTokens) throws IOException {
        Path file = dir.resolve(chatTokens ? "chat.json" : "plain.json");
        List<String> extra = chatTokens ? List.of(PromptFormat.IM_START, PromptFormat.IM_END) : List.of();
        return new HfTokenizer(CharVocabulary.writeTokenizerJson(file, extra));
    }

    @Test
    void autoPicksPlainWithoutChatTokens() throws IOException {
        try (Tokenizer tokenizer = charTokenizer(false)) {
            assertEquals(PromptFormat.Style.PLAIN, RunParts.promptFormat(task("auto"), tokenizer).style());
        }
    }

    @Test
    void autoPicksChatmlWithChatTokens() throws IOException {
        try (Tokenizer tokenizer = charTokenizer(true)) {
            PromptFormat format = RunParts.promptFormat(task("auto"), tokenizer);
            assertEquals(PromptFormat.Style.CHATML, format.style());
            assertEquals("Be brief.", format.systemPrompt());
            assertEquals(PromptFormat.Style.PLAIN, RunParts.promptFormat(task("plain"), tokenizer).style());
        }
    }

    @Test
    void chatmlWithoutChatTokensNamesKeyAndFix() throws IOException {
        try (Tokenizer tokenizer = charTokenizer(false)) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> RunParts.promptFormat(task("chatml"), tokenizer));
            assertTrue(error.getMessage().contains("task.prompt-format is chatml"), error.getMessage());
            assertTrue(error.getMessage().contains("set task.prompt-format to plain or auto"), error.getMessage());
        }
    }

    @Test
    void defaultSystemPromptMatchesPromptFormat() {
        Settings.Task defaults = SettingsLoader.defaults().settings().task();
        assertEquals(Settings.Task.Format.AUTO, defaults.promptFormat());
        assertEquals(PromptFormat.DEFAULT_SYSTEM_PROMPT, defaults.systemPrompt());
    }

    @Test
    void stopIdsJoinAllSources() throws IOException {
        try (Tokenizer tokenizer = charTokenizer(true)) {
            int imEnd = CharVocabulary.SIZE + 1;
            ModelSource withGeneration = new ModelSource(null, tokenizer, null,
                    Optional.of(new GenerationConfig(List.of(7, 3))), null, null, 0, true);
            ModelSource without = new ModelSource(null, tokenizer, null, Optional.empty(), null, null, 0, true);

            assertArrayEquals(new int[] {CharVocabulary.EOS_ID, 3, 7, imEnd},
                    RunParts.stopIds(withGeneration, PromptFormat.chatml("")));
            assertArrayEquals(new int[] {CharVocabulary.EOS_ID, 3, 7},
                    RunParts.stopIds(withGeneration, new PromptFormat()));
            assertArrayEquals(new int[] {CharVocabulary.EOS_ID}, RunParts.stopIds(without, new PromptFormat()));
        }
    }

    @Test
    void eosOutsideVocabularyNamesGenerationConfig() throws IOException {
        Path model = Files.createDirectories(dir.resolve("model"));
        String shared = System.getProperty("treepo.shared.dir", "");
        Path source = Path.of(shared, "testdata", "qwen2-tiny", "tied-f32");
        Assumptions.assumeTrue(!shared.isEmpty() && Files.isDirectory(source), "reference data not found: " + source);
        Files.copy(source.resolve("config.json"), model.resolve("config.json"));
        Files.copy(source.resolve("model.safetensors"), model.resolve("model.safetensors"));
        CharVocabulary.writeTokenizerJson(model.resolve("tokenizer.json"));
        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": [0, 150000]}");

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> ModelSource.load(model));
        assertTrue(error.getMessage().contains("eos_token_id 150000 in " + model.resolve("generation_config.json")),
                error.getMessage());

        Files.writeString(model.resolve("generation_config.json"), "{\"eos_token_id\": \"<|im_end|>\"}");
        error = assertThrows(IllegalArgumentException.class, () -> ModelSource.load(model));
        assertTrue(error.getMessage().contains("Invalid eos_token_id"), error.getMessage());
    }
}
