package dev.treepo.model.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

class GenerationConfigTest {

    @TempDir
    Path dir;

    private GenerationConfig readJson(String json) throws IOException {
        Path file = dir.resolve(GenerationConfig.FILE_NAME);
        Files.writeString(file, json);
        return GenerationConfig.read(file);
    }

    @Test
    void singleEosId() throws IOException {
        assertEquals(List.of(151643), readJson("{\"eos_token_id\": 151643}").eosTokenIds());
    }

    @Test
    void listOfEosIds() throws IOException {
        // A list as Qwen2 chat models give it: <|im_end|> and <|endoftext|>, among sampling fields.
        GenerationConfig config = readJson("""
                {"bos_token_id": 151643, "do_sample": true, "eos_token_id": [151645, 151643],
                 "pad_token_id": 151643, "temperature": 0.7, "top_p": 0.8}
                """);
        assertEquals(List.of(151645, 151643), config.eosTokenIds());
    }

    @Test
    void missingOrNullEosGivesNoIds() throws IOException {
        assertEquals(List.of(), readJson("{\"temperature\": 0.7}").eosTokenIds());
        assertEquals(List.of(), readJson("{\"eos_token_id\": null}").eosTokenIds());
    }

    @Test
    void absentFileIsEmpty() throws IOException {
        assertEquals(Optional.empty(), GenerationConfig.readIfPresent(dir));
    }

    @Test
    void malformedJsonNamesFile() {
        IOException error = assertThrows(IOException.class, () -> readJson("{\"eos_token_id\": [1,"));
        assertTrue(error.getMessage().contains(dir.resolve(GenerationConfig.FILE_NAME).toString()),
                error.getMessage());
        assertTrue(error.getMessage().contains("delete it"), error.getMessage());
    }

    @Test
    void invalidEosTypesNameFileAndValue() {
        for (String value : new String[] {"\"<|im_end|>\"", "1.5", "-1", "[2, \"x\"]", "{}"}) {
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> readJson("{\"eos_token_id\": " + value + "}"), value);
            assertTrue(error.getMessage().contains("Invalid eos_token_id"), error.getMessage());
            assertTrue(error.getMessage().contains(GenerationConfig.FILE_NAME), error.getMessage());
        }
    }

    @Test
    void notAnObjectIsRejected() {
        IOException error = assertThrows(IOException.class, () -> readJson("[151643]"));
        assertTrue(error.getMessage().contains("expected a JSON object"), error.getMessage());
    }

    @Test
    void writeRoundTrips() throws IOException {
        Path file = dir.resolve(GenerationConfig.FILE_NAME);
        new GenerationConfig(List.of(7)).write(file);
        assertEquals("{\n  \"eos_token_id\" : 7\n}", Files.readString(file).strip());
        assertEquals(List.of(7), GenerationConfig.read(file).eosTokenIds());

        new GenerationConfig(List.of(5, 0)).write(file);
        assertEquals(List.of(5, 0), GenerationConfig.read(file).eosTokenIds());
    }
}
