package dev.treepo.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

class HfTokenizerTokenIdTest {

    private static final String IM_START = "<|im_start|>";
    private static final String IM_END = "<|im_end|>";

    @TempDir
    Path folder;

    @Test
    void charTokenizerHasNoChatTokens() throws IOException {
        try (HfTokenizer tokenizer = new HfTokenizer(
                CharVocabulary.writeTokenizerJson(folder.resolve("tokenizer.json")))) {
            assertEquals(OptionalInt.empty(), tokenizer.tokenId(IM_START));
            assertEquals(OptionalInt.of(CharVocabulary.EOS_ID), tokenizer.tokenId("<|endoftext|>"));
            assertEquals(OptionalInt.of(CharVocabulary.idOf('a')), tokenizer.tokenId("a"));
            assertEquals(OptionalInt.empty(), tokenizer.tokenId("ab"));
        }
    }

    @Test
    void addedChatTokensEncodeWholeAndDecodeAway() throws IOException {
        Path file = CharVocabulary.writeTokenizerJson(folder.resolve("tokenizer.json"),
                List.of(IM_START, IM_END));
        try (HfTokenizer tokenizer = new HfTokenizer(file)) {
            int start = CharVocabulary.SIZE;
            int end = CharVocabulary.SIZE + 1;
            assertEquals(CharVocabulary.SIZE + 2, tokenizer.vocabSize());
            assertEquals(OptionalInt.of(start), tokenizer.tokenId(IM_START));
            assertEquals(OptionalInt.of(end), tokenizer.tokenId(IM_END));

            int[] ids = tokenizer.encode(IM_START + "user\nhi" + IM_END);
            int[] expected = {start, CharVocabulary.idOf('u'), CharVocabulary.idOf('s'),
                CharVocabulary.idOf('e'), CharVocabulary.idOf('r'), CharVocabulary.NEWLINE_ID,
                CharVocabulary.idOf('h'), CharVocabulary.idOf('i'), end};
            assertArrayEquals(expected, ids);
            assertEquals("user\nhi", tokenizer.decode(ids));
        }
    }

    @Test
    void extraTokenAlreadyInVocabularyIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> CharVocabulary.writeTokenizerJson(
                folder.resolve("tokenizer.json"), List.of("a")));
    }
}
