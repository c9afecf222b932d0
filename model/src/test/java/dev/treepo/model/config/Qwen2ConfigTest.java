package dev.treepo.model.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

class Qwen2ConfigTest {

    private static final String MINIMAL = """
            {"vocab_size": 160, "hidden_size": 64, "intermediate_size": 176,
             "num_hidden_layers": 2, "num_attention_heads": 4""";

    @TempDir
    Path dir;

    @Test
    void readMapsHuggingFaceFields() throws IOException {
        Path file = write(MINIMAL + """
                , "num_key_value_heads": 2, "rope_theta": 1000000.0, "rms_norm_eps": 1e-05,
                 "max_position_embeddings": 256, "tie_word_embeddings": true,
                 "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
                 "use_sliding_window": false, "sliding_window": null,
                 "bos_token_id": 1, "eos_token_id": [2, 7]}""");
        Qwen2Config config = Qwen2Config.read(file);
        assertEquals(new Qwen2Config(160, 64, 176, 2, 4, 2, 1e6, 1e-5, 256, true, 1, 2), config);
        assertEquals(16, config.headDim());
        assertEquals(2, config.groupSize());
    }

    @Test
    void readAppliesTransformersDefaults() throws IOException {
        Qwen2Config config = Qwen2Config.read(write(MINIMAL + "}"));
        assertEquals(4, config.numKeyValueHeads());
        assertEquals(10000.0, config.ropeTheta());
        assertEquals(1e-6, config.rmsNormEps());
        assertEquals(32768, config.maxPositionEmbeddings());
        assertEquals(false, config.tieWordEmbeddings());
        assertEquals(-1, config.bosTokenId());
        assertEquals(-1, config.eosTokenId());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"architectures\": [\"LlamaForCausalLM\"] | architectures",
        "\"use_sliding_window\": true | use_sliding_window",
        "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0} | rope_scaling",
        "\"hidden_act\": \"gelu\" | hidden_act",
        "\"model_type\": \"llama\" | model_type",
    })
    void readRejectsUnsupportedFeatureByName(String field, String name) throws IOException {
        Path file = write(MINIMAL + ", " + field + "}");
        IllegalArgumentException error =
                assertThrows(IllegalArgumentException.class, () -> Qwen2Config.read(file));
        assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("field " + name), error.getMessage());
    }

    @Test
    void readNamesMissingAndInvalidFields() throws IOException {
        Path missing = write("{\"vocab_size\": 10}");
        IllegalArgumentException error =
                assertThrows(IllegalArgumentException.class, () -> Qwen2Config.read(missing));
        assertEquals("Missing field num_attention_heads in model config " + missing,
                error.getMessage());

        Path invalid = write(MINIMAL + ", \"rope_theta\": \"big\"}");
        error = assertThrows(IllegalArgumentException.class, () -> Qwen2Config.read(invalid));
        assertTrue(error.getMessage().contains("Invalid field rope_theta"), error.getMessage());

        Path notJson = write("{");
        assertThrows(IOException.class, () -> Qwen2Config.read(notJson));
    }

    @Test
    void constructorRejectsIndivisibleHeads() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> new Qwen2Config(10, 64, 128, 2, 4, 3, 1e4, 1e-6, 64, true, -1, -1));
        assertTrue(error.getMessage().contains("num_key_value_heads 3"), error.getMessage());
    }

    @Test
    void writeThenReadRoundTrips() throws IOException {
        Qwen2Config config = new Qwen2Config(151, 128, 384, 4, 4, 2, 1e4, 1e-6, 512, false, 5, 6);
        Path file = dir.resolve("out/config.json");
        config.write(file);
        assertEquals(config, Qwen2Config.read(file));

        JsonNode json = new ObjectMapper().readTree(file.toFile());
        assertEquals("qwen2", json.get("model_type").asText());
        assertEquals("Qwen2ForCausalLM", json.get("architectures").get(0).asText());
        assertEquals("float32", json.get("torch_dtype").asText());
        assertEquals("silu", json.get("hidden_act").asText());
        assertEquals(false, json.get("use_sliding_window").asBoolean());
    }

    @Test
    void tinyPresetHasDocumentedSizes() {
        Qwen2Config tiny = Qwen2Config.tiny(100);
        assertEquals(new Qwen2Config(100, 128, 384, 4, 4, 2, 10000.0, 1e-6, 512, true, -1, -1),
                tiny);
        assertEquals(32, tiny.headDim());
    }

    private Path write(String json) throws IOException {
        Path file = Files.createTempFile(dir, "config", ".json");
        Files.writeString(file, json);
        return file;
    }
}
