package dev.treepo.model.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Character-level vocabulary of the built-in tiny model.
 *
 * <p>Ids 0 to 2 are the special tokens {@code <|endoftext|>} (EOS), {@code <|pad|>} and
 * {@code <|unk|>}. Id 3 is the newline, and ids 4 to 98 are the printable ASCII characters 32
 * (space) to 126 ({@code ~}) in order. Any other character encodes to {@code <|unk|>}.
 */
public final class CharVocabulary {

    public static final String EOS_TOKEN = "<|endoftext|>";
    public static final String PAD_TOKEN = "<|pad|>";
    public static final String UNK_TOKEN = "<|unk|>";

    public static final int EOS_ID = 0;
    public static final int PAD_ID = 1;
    public static final int UNK_ID = 2;
    public static final int NEWLINE_ID = 3;

    private static final int FIRST_PRINTABLE = 32;
    private static final int LAST_PRINTABLE = 126;
    private static final int FIRST_PRINTABLE_ID = 4;

    /** Number of ids: 3 special tokens, the newline and 95 printable characters. */
    public static final int SIZE = FIRST_PRINTABLE_ID + (LAST_PRINTABLE - FIRST_PRINTABLE + 1);

    private static final List<String> TOKENS = buildTokens();

    private CharVocabulary() {}

    /** Returns the token strings indexed by id. */
    public static List<String> tokens() {
        return TOKENS;
    }

    /** Returns the id of one character, or {@link #UNK_ID} when the vocabulary lacks it. */
    public static int idOf(char c) {
        if (c == '\n') {
            return NEWLINE_ID;
        }
        if (c >= FIRST_PRINTABLE && c <= LAST_PRINTABLE) {
            return FIRST_PRINTABLE_ID + (c - FIRST_PRINTABLE);
        }
        return UNK_ID;
    }

    /** Returns whether the id is one of the three special tokens. */
    public static boolean isSpecial(int id) {
        return id >= 0 && id < NEWLINE_ID;
    }

    /**
     * Writes a Hugging Face {@code tokenizer.json} for this vocabulary and returns the file.
     *
     * <p>The model is BPE without merges and without a pre-tokenizer, so every character is one
     * token and unknown characters become {@code <|unk|>}. There is no normalizer, and the
     * {@code Fuse} decoder joins pieces without spaces, so encode and decode round-trip any text
     * made of the vocabulary's characters. Parent folders are created when missing.
     *
     * @throws IOException if the file cannot be written
     */
    public static Path writeTokenizerJson(Path file) throws IOException {
        return writeTokenizerJson(file, List.of());
    }

    /**
     * Writes a {@code tokenizer.json} as {@link #writeTokenizerJson(Path)} does, with {@code
     * extraSpecialTokens} (such as ChatML's {@code <|im_start|>} and {@code <|im_end|>}) added as
     * special tokens with ids from {@link #SIZE} on. Encoding matches them as whole tokens, and
     * decoding drops them.
     *
     * @throws IllegalArgumentException if an extra token is empty or already in the vocabulary
     */
    public static Path writeTokenizerJson(Path file, List<String> extraSpecialTokens)
            throws IOException {
        for (String token : extraSpecialTokens) {
            if (token.isEmpty() || TOKENS.contains(token)) {
                throw new IllegalArgumentException("Invalid extra special token \"" + token
                        + "\": it must be non-empty and not already in the character vocabulary");
            }
        }
        List<String> allTokens = new ArrayList<>(TOKENS);
        allTokens.addAll(extraSpecialTokens);
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");

        ArrayNode added = root.putArray("added_tokens");
        List<Integer> specialIds = new ArrayList<>();
        for (int id = 0; id < NEWLINE_ID; id++) {
            specialIds.add(id);
        }
        for (int id = SIZE; id < allTokens.size(); id++) {
            specialIds.add(id);
        }
        for (int id : specialIds) {
            ObjectNode token = added.addObject();
            token.put("id", id);
            token.put("content", allTokens.get(id));
            token.put("single_word", false);
            token.put("lstrip", false);
            token.put("rstrip", false);
            token.put("normalized", false);
            token.put("special", true);
        }

        root.putNull("normalizer");
        root.putNull("pre_tokenizer");
        root.putNull("post_processor");
        root.putObject("decoder").put("type", "Fuse");

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.put("unk_token", UNK_TOKEN);
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < allTokens.size(); id++) {
            vocab.put(allTokens.get(id), id);
        }
        model.putArray("merges");

        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        mapper.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
        return file;
    }

    private static List<String> buildTokens() {
        List<String> tokens = new ArrayList<>(SIZE);
        tokens.add(EOS_TOKEN);
        tokens.add(PAD_TOKEN);
        tokens.add(UNK_TOKEN);
        tokens.add("\n");
        for (char c = FIRST_PRINTABLE; c <= LAST_PRINTABLE; c++) {
            tokens.add(String.valueOf(c));
        }
        return Collections.unmodifiableList(tokens);
    }
}
