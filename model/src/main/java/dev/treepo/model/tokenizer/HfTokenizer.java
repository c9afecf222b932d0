package dev.treepo.model.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.OptionalInt;

/**
 * {@link Tokenizer} over a local Hugging Face {@code tokenizer.json}, through DJL's Rust binding.
 *
 * <p>Truncation and padding are off, because DJL would otherwise cut every encoding at 512 tokens.
 * Encode adds no special tokens, and decode skips them. The vocabulary size and the ids of named
 * tokens are read from the JSON file itself, since the binding does not expose them.
 */
public final class HfTokenizer implements Tokenizer {

    public static final String EOS_TOKEN = "<|endoftext|>";
    public static final String PAD_TOKEN = "<|pad|>";

    private final Path file;
    private final HuggingFaceTokenizer tokenizer;
    private final int vocabSize;
    private final int eosId;
    private final int padId;
    /** Ids of the model vocabulary and the added tokens, by token string. */
    private final Map<String, Integer> idsByToken;

    /**
     * Loads a tokenizer whose EOS is the token {@code <|endoftext|>}. The pad id is the token
     * {@code <|pad|>} when the file has one, otherwise the EOS id (as for Qwen2).
     *
     * @param path a {@code tokenizer.json} file, or a folder that contains one
     * @throws IOException if the file cannot be read or parsed
     * @throws IllegalArgumentException if the file has no {@code <|endoftext|>} token
     */
    public HfTokenizer(Path path) throws IOException {
        this(path, null, null);
    }

    /**
     * Loads a tokenizer with explicit EOS and pad ids.
     *
     * @param path a {@code tokenizer.json} file, or a folder that contains one
     * @throws IOException if the file cannot be read or parsed
     * @throws IllegalArgumentException if an id is outside the vocabulary
     */
    public HfTokenizer(Path path, int eosId, int padId) throws IOException {
        this(path, Integer.valueOf(eosId), Integer.valueOf(padId));
    }

    private HfTokenizer(Path path, Integer eosId, Integer padId) throws IOException {
        this.file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IOException("Tokenizer file not found: " + file.toAbsolutePath()
                    + ". Expected a Hugging Face tokenizer.json or a folder that contains one.");
        }

        Map<String, Integer> namedIds = new HashMap<>();
        this.vocabSize = readVocabulary(file, namedIds);
        this.idsByToken = namedIds;
        this.eosId = eosId != null ? eosId : requireNamedId(namedIds, EOS_TOKEN);
        this.padId = padId != null ? padId : namedIds.getOrDefault(PAD_TOKEN, this.eosId);
        checkId("EOS id", this.eosId);
        checkId("pad id", this.padId);

        Map<String, String> options = Map.of(
                "addSpecialTokens", "false",
                "truncation", "false",
                "padding", "false");
        this.tokenizer = HuggingFaceTokenizer.newInstance(file, options);
    }

    @Override
    public int[] encode(String text) {
        long[] ids = tokenizer.encode(text, false, false).getIds();
        int[] result = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            result[i] = Math.toIntExact(ids[i]);
        }
        return result;
    }

    @Override
    public String decode(int[] ids) {
        long[] wide = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocabSize) {
                throw new IllegalArgumentException("Cannot decode token id " + ids[i] + " at position "
                        + i + ": valid ids are 0 to " + (vocabSize - 1) + " for " + file
                        + ". Mask logits at or above the vocabulary size before sampling.");
            }
            wide[i] = ids[i];
        }
        return tokenizer.decode(wide, true);
    }

    @Override
    public int vocabSize() {
        return vocabSize;
    }

    @Override
    public int eosId() {
        return eosId;
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public OptionalInt tokenId(String token) {
        Integer id = idsByToken.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    /**
     * Reads the model vocabulary and the added tokens, stores the id of every token into {@code
     * namedIds} (an added token wins over a vocabulary entry of the same text), and returns the
     * largest id plus one.
     */
    private static int readVocabulary(Path file, Map<String, Integer> namedIds) throws IOException {
        JsonNode root = new ObjectMapper().readTree(file.toFile());
        int maxId = -1;

        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> entries = vocab.fields();
            while (entries.hasNext()) {
                Map.Entry<String, JsonNode> entry = entries.next();
                int id = entry.getValue().asInt();
                maxId = Math.max(maxId, id);
                recordNamedId(namedIds, entry.getKey(), id);
            }
        } else if (vocab.isArray()) {
            // Unigram models list [piece, score] pairs, and the position is the id.
            for (int id = 0; id < vocab.size(); id++) {
                maxId = Math.max(maxId, id);
                recordNamedId(namedIds, vocab.get(id).path(0).asText(), id);
            }
        }

        for (JsonNode added : root.path("added_tokens")) {
            int id = added.path("id").asInt(-1);
            maxId = Math.max(maxId, id);
            recordNamedId(namedIds, added.path("content").asText(), id);
        }

        if (maxId < 0) {
            throw new IOException("Tokenizer file " + file.toAbsolutePath()
                    + " has neither model.vocab nor added_tokens; is it a Hugging Face tokenizer.json?");
        }
        return maxId + 1;
    }

    private static void recordNamedId(Map<String, Integer> namedIds, String token, int id) {
        if (id >= 0) {
            namedIds.put(token, id);
        }
    }

    private int requireNamedId(Map<String, Integer> namedIds, String token) {
        Integer id = namedIds.get(token);
        if (id == null) {
            throw new IllegalArgumentException("Tokenizer file " + file.toAbsolutePath()
                    + " has no token " + token + ". Pass the EOS and pad ids to the constructor.");
        }
        return id;
    }

    private void checkId(String name, int id) {
        if (id < 0 || id >= vocabSize) {
            throw new IllegalArgumentException("Invalid " + name + " " + id + " for " + file
                    + ": valid ids are 0 to " + (vocabSize - 1) + ".");
        }
    }
}
