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

/**
 * Sizes and constants of a Qwen2 decoder, as Hugging Face {@code config.json} states them.
 *
 * <p>Only the dense Qwen2 architecture is supported: full causal attention in every layer (no
 * sliding window), plain rotary embeddings (no {@code rope_scaling}) and the SiLU activation.
 *
 * @param vocabSize rows of the embedding and of the LM head, including padded rows
 * @param hiddenSize width of the residual stream
 * @param intermediateSize width of the SwiGLU MLP
 * @param numHiddenLayers decoder layers
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads key and value heads, each shared by an equal group of query heads
 * @param ropeTheta base of the rotary frequencies
 * @param rmsNormEps epsilon added to the mean square in RMSNorm
 * @param maxPositionEmbeddings longest sequence the model was trained for, in tokens
 * @param tieWordEmbeddings whether the LM head reuses the embedding matrix
 * @param bosTokenId beginning-of-sequence id, or -1 when the config has none
 * @param eosTokenId end-of-sequence id, or -1 when the config has none
 */
public record Qwen2Config(
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        double ropeTheta,
        double rmsNormEps,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int eosTokenId) {

    public static final String ARCHITECTURE = "Qwen2ForCausalLM";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** @throws IllegalArgumentException if a size is not positive or the heads do not divide */
    public Qwen2Config {
        requirePositive("vocab_size", vocabSize);
        requirePositive("hidden_size", hiddenSize);
        requirePositive("intermediate_size", intermediateSize);
        requirePositive("num_hidden_layers", numHiddenLayers);
        requirePositive("num_attention_heads", numAttentionHeads);
        requirePositive("num_key_value_heads", numKeyValueHeads);
        requirePositive("max_position_embeddings", maxPositionEmbeddings);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("Invalid config: hidden_size " + hiddenSize
                    + " is not a multiple of num_attention_heads " + numAttentionHeads);
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("Invalid config: num_attention_heads "
                    + numAttentionHeads + " is not a multiple of num_key_value_heads "
                    + numKeyValueHeads);
        }
        if ((hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new IllegalArgumentException("Invalid config: head size "
                    + hiddenSize / numAttentionHeads + " must be even for rotary embeddings");
        }
        if (!(ropeTheta > 0) || !(rmsNormEps > 0)) {
            throw new IllegalArgumentException("Invalid config: rope_theta " + ropeTheta
                    + " and rms_norm_eps " + rmsNormEps + " must be positive");
        }
    }

    /**
     * Returns the built-in tiny preset for training from scratch: 4 layers of width 128, 4 query
     * heads sharing 2 KV heads, MLP width 384, 512 positions, tied embeddings, no BOS or EOS id
     * (the tokenizer supplies them).
     */
    public static Qwen2Config tiny(int vocabSize) {
        return new Qwen2Config(vocabSize, 128, 384, 4, 4, 2, 10000.0, 1e-6, 512, true, -1, -1);
    }

    /** Size of one attention head. */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Query heads per KV head. */
    public int groupSize() {
        return numAttentionHeads / numKeyValueHeads;
    }

    /**
     * Reads a Hugging Face {@code config.json}. Missing optional fields take the defaults of
     * transformers' {@code Qwen2Config}: {@code num_key_value_heads} equals {@code
     * num_attention_heads}, {@code rope_theta} 10000, {@code rms_norm_eps} 1e-6, {@code
     * max_position_embeddings} 32768, untied embeddings.
     *
     * @throws IOException if the file cannot be read or is not JSON
     * @throws IllegalArgumentException naming the file and field when a required field is missing
     *     or has the wrong type, or the config uses an unsupported feature (another architecture,
     *     sliding-window attention, rope scaling, an activation other than SiLU)
     */
    public static Qwen2Config read(Path configJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException("Invalid JSON in model config " + configJson + ": "
                    + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new IOException("Invalid model config " + configJson + ": expected a JSON object");
        }
        Reader reader = new Reader(configJson, root);
        reader.checkSupported();
        int heads = reader.requiredInt("num_attention_heads");
        return new Qwen2Config(
                reader.requiredInt("vocab_size"),
                reader.requiredInt("hidden_size"),
                reader.requiredInt("intermediate_size"),
                reader.requiredInt("num_hidden_layers"),
                heads,
                reader.optionalInt("num_key_value_heads", heads),
                reader.optionalDouble("rope_theta", 10000.0),
                reader.optionalDouble("rms_norm_eps", 1e-6),
                reader.optionalInt("max_position_embeddings", 32768),
                reader.optionalBoolean("tie_word_embeddings", false),
                reader.tokenId("bos_token_id"),
                reader.tokenId("eos_token_id"));
    }

    /**
     * Writes a {@code config.json} that Hugging Face transformers loads as {@code
     * Qwen2ForCausalLM} with float32 weights. The file is written to a temporary sibling first and
     * then moved into place, so a reader never sees half a file.
     */
    public void write(Path configJson) throws IOException {
        write(configJson, "float32");
    }

    /**
     * Writes {@code config.json} as {@link #write(Path)} does, with {@code torch_dtype} set to
     * {@code torchDtype} ({@code "float32"}, {@code "bfloat16"} or {@code "float16"}), the type
     * that transformers loads the weights in by default.
     */
    public void write(Path configJson, String torchDtype) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode architectures = root.putArray("architectures");
        architectures.add(ARCHITECTURE);
        root.put("model_type", "qwen2");
        root.put("torch_dtype", torchDtype);
        root.put("vocab_size", vocabSize);
        root.put("hidden_size", hiddenSize);
        root.put("intermediate_size", intermediateSize);
        root.put("num_hidden_layers", numHiddenLayers);
        root.put("num_attention_heads", numAttentionHeads);
        root.put("num_key_value_heads", numKeyValueHeads);
        root.put("hidden_act", "silu");
        root.put("max_position_embeddings", maxPositionEmbeddings);
        root.put("rope_theta", ropeTheta);
        root.putNull("rope_scaling");
        root.put("rms_norm_eps", rmsNormEps);
        root.put("tie_word_embeddings", tieWordEmbeddings);
        root.put("use_sliding_window", false);
        root.putNull("sliding_window");
        root.put("max_window_layers", numHiddenLayers);
        root.put("attention_dropout", 0.0);
        root.put("initializer_range", 0.02);
        root.put("use_cache", true);
        if (bosTokenId >= 0) {
            root.put("bos_token_id", bosTokenId);
        }
        if (eosTokenId >= 0) {
            root.put("eos_token_id", eosTokenId);
        }

        byte[] bytes = JSON.writer(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(root);
        Path parent = configJson.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path temporary = Files.createTempFile(parent, ".config-", ".json.tmp");
        try {
            Files.write(temporary, bytes);
            Files.move(temporary, configJson, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static void requirePositive(String field, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(
                    "Invalid config: " + field + " must be positive, got " + value);
        }
    }

    /** Field access that names the file and the field in every error. */
    private record Reader(Path file, JsonNode root) {

        void checkSupported() {
            JsonNode architectures = root.get("architectures");
            if (architectures != null && !architectures.isNull()) {
                if (!architectures.isArray() || architectures.size() != 1
                        || !ARCHITECTURE.equals(architectures.get(0).asText())) {
                    throw unsupported("architectures", architectures.toString()
                            + " is not supported; only [\"" + ARCHITECTURE + "\"] is");
                }
            } else {
                JsonNode modelType = root.get("model_type");
                if (modelType != null && !"qwen2".equals(modelType.asText())) {
                    throw unsupported("model_type", modelType
                            + " is not supported; only \"qwen2\" is");
                }
            }
            if (root.path("use_sliding_window").asBoolean(false)) {
                throw unsupported("use_sliding_window",
                        "sliding-window attention is not supported; set it to false");
            }
            JsonNode ropeScaling = root.get("rope_scaling");
            if (ropeScaling != null && !ropeScaling.isNull()) {
                throw unsupported("rope_scaling", ropeScaling
                        + " is not supported; only plain rotary embeddings (null) are");
            }
            JsonNode activation = root.get("hidden_act");
            if (activation != null && !"silu".equals(activation.asText())) {
                throw unsupported("hidden_act", activation + " is not supported; only \"silu\" is");
            }
        }

        int requiredInt(String field) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                throw new IllegalArgumentException(
                        "Missing field " + field + " in model config " + file);
            }
            return toInt(field, node);
        }

        int optionalInt(String field, int defaultValue) {
            JsonNode node = root.get(field);
            return node == null || node.isNull() ? defaultValue : toInt(field, node);
        }

        double optionalDouble(String field, double defaultValue) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                return defaultValue;
            }
            if (!node.isNumber()) {
                throw invalid(field, node, "a number");
            }
            return node.doubleValue();
        }

        boolean optionalBoolean(String field, boolean defaultValue) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                return defaultValue;
            }
            if (!node.isBoolean()) {
                throw invalid(field, node, "true or false");
            }
            return node.booleanValue();
        }

        /** Reads a token id; some configs list several EOS ids, and the first one is used. */
        int tokenId(String field) {
            JsonNode node = root.get(field);
            if (node == null || node.isNull()) {
                return -1;
            }
            if (node.isArray()) {
                return node.isEmpty() ? -1 : toInt(field, node.get(0));
            }
            return toInt(field, node);
        }

        private int toInt(String field, JsonNode node) {
            if (!node.isIntegralNumber() || !node.canConvertToInt()) {
                throw invalid(field, node, "an integer");
            }
            return node.intValue();
        }

        private IllegalArgumentException invalid(String field, JsonNode node, String expected) {
            return new IllegalArgumentException("Invalid field " + field + " in model config "
                    + file + ": expected " + expected + ", got " + node);
        }

        private IllegalArgumentException unsupported(String field, String detail) {
            return new IllegalArgumentException(
                    "Unsupported model config " + file + ", field " + field + ": " + detail);
        }
    }
}
