package dev.treepo.model.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The stop tokens of a Hugging Face {@code generation_config.json}.
 *
 * <p>Only {@code eos_token_id} is read, because this project takes its sampling settings from its
 * own configuration. Model folders give one id or a list of ids there, and generation stops at
 * any of them.
 *
 * @param eosTokenIds the stop ids in file order, empty when the file has no {@code eos_token_id}
 */
public record GenerationConfig(List<Integer> eosTokenIds) {

    /** File name inside a Hugging Face model folder. */
    public static final String FILE_NAME = "generation_config.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** @throws IllegalArgumentException if an id is negative */
    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
        for (int id : eosTokenIds) {
            if (id < 0) {
                throw new IllegalArgumentException(
                        "Invalid eos_token_id " + id + ": token ids are non-negative");
            }
        }
    }

    /**
     * Reads {@value #FILE_NAME} from a model folder when the folder has one.
     *
     * @throws IOException if the file exists but cannot be read or is not JSON
     * @throws IllegalArgumentException naming the file when its {@code eos_token_id} is invalid
     */
    public static Optional<GenerationConfig> readIfPresent(Path modelDir) throws IOException {
        Path file = modelDir.resolve(FILE_NAME);
        return Files.isRegularFile(file) ? Optional.of(read(file)) : Optional.empty();
    }

    /**
     * Reads a {@code generation_config.json}. A missing or null {@code eos_token_id} gives no stop
     * ids, and every other field is ignored.
     *
     * @throws IOException naming the file when it cannot be read or is not a JSON object
     * @throws IllegalArgumentException naming the file when {@code eos_token_id} is neither a
     *     non-negative integer nor a list of them
     */
    public static GenerationConfig read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException("Invalid JSON in generation config " + file + ": "
                    + e.getOriginalMessage() + ". Fix the file or delete it to stop on the"
                    + " tokenizer's EOS only.", e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException("Invalid generation config " + file
                    + ": expected a JSON object. Fix the file or delete it.");
        }

        JsonNode eos = root.get("eos_token_id");
        List<Integer> ids = new ArrayList<>();
        if (eos == null || eos.isNull()) {
            return new GenerationConfig(ids);
        }
        if (eos.isArray()) {
            for (JsonNode element : eos) {
                ids.add(tokenId(file, eos, element));
            }
        } else {
            ids.add(tokenId(file, eos, eos));
        }
        return new GenerationConfig(ids);
    }

    /**
     * Writes a minimal {@code generation_config.json} with {@code eos_token_id} (a single integer
     * when there is one id, otherwise a list), through a temporary sibling moved into place.
     */
    public void write(Path file) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (eosTokenIds.size() == 1) {
            root.put("eos_token_id", eosTokenIds.get(0));
        } else if (!eosTokenIds.isEmpty()) {
            ArrayNode list = root.putArray("eos_token_id");
            eosTokenIds.forEach(list::add);
        }
        byte[] bytes = JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, ".generation_config-", ".json.tmp");
        try {
            Files.write(temporary, bytes);
            Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static int tokenId(Path file, JsonNode field, JsonNode element) {
        if (!element.isIntegralNumber() || !element.canConvertToInt() || element.intValue() < 0) {
            throw new IllegalArgumentException("Invalid eos_token_id " + field + " in generation config " + file
                    + ": expected a non-negative integer or a list of them. Fix the file or delete"
                    + " it to stop on the tokenizer's EOS only.");
        }
        return element.intValue();
    }
}
