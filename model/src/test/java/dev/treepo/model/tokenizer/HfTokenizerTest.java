package dev.treepo.model.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

class HfTokenizerTest {

    @TempDir static Path folder;

    private static HfTokenizer tokenizer;

    @BeforeAll
    static void load() throws IOException {
        tokenizer = new HfTokenizer(CharVocabulary.writeTokenizerJson(folder.resolve("tokenizer.json")));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        " ",
        "a",
        "  two  leading and trailing spaces  ",
        "line one\nline two\n\n\nafter blank lines\n",
        "\\boxed{42} and \\frac{1}{2} with {braces} and [brackets]",
        "quotes \" and ' and `backticks` ~!@#$%^&*()_+-=|;:,.<>/?",
        "<<16-3-4=9>>9 duck eggs\n#### 18",
        "<|not special|> <| |>",
    })
    void roundTripsTaskText(String text) {
        int[] ids = tokenizer.encode(text);

        assertEquals(text.length(), ids.length, "one token per character");
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void encodesCharactersToVocabularyIds() {
        String text = "Hi\n~ {x}\\";
        int[] expected = new int[text.length()];
        for (int i = 0; i < text.length(); i++) {
            expected[i] = CharVocabulary.idOf(text.charAt(i));
        }

        assertArrayEquals(expected, tokenizer.encode(text));
    }

    @Test
    void roundTripsRandomPrintableText() {
        SplittableRandom random = new SplittableRandom(7);
        List<String> tokens = CharVocabulary.tokens();
        for (int trial = 0; trial < 50; trial++) {
            StringBuilder text = new StringBuilder();
            int length = random.nextInt(0, 300);
            for (int i = 0; i < length; i++) {
                text.append(tokens.get(random.nextInt(CharVocabulary.NEWLINE_ID, CharVocabulary.SIZE)));
            }

            assertEquals(text.toString(), tokenizer.decode(tokenizer.encode(text.toString())));
        }
    }

    @Test
    void longTextIsNotTruncated() {
        String text = "0123456789\n".repeat(200);

        int[] ids = tokenizer.encode(text);

        assertEquals(2200, ids.length);
        assertEquals(text, tokenizer.decode(ids));
    }

    @Test
    void unknownCharactersEncodeToUnk() {
        int[] ids = tokenizer.encode("a\tb\u2019c\u00e9");

        assertArrayEquals(new int[] {
            CharVocabulary.idOf('a'), CharVocabulary.UNK_ID,
            CharVocabulary.idOf('b'), CharVocabulary.UNK_ID,
            CharVocabulary.idOf('c'), CharVocabulary.UNK_ID,
        }, ids);
    }

    @Test
    void specialTokensAreDroppedOnDecode() {
        int[] ids = {CharVocabulary.idOf('o'), CharVocabulary.idOf('k'), CharVocabulary.EOS_ID,
            CharVocabulary.PAD_ID, CharVocabulary.PAD_ID};

        assertEquals("ok", tokenizer.decode(ids));
    }

    @Test
    void specialTokenTextEncodesToItsId() {
        int[] ids = tokenizer.encode("a<|endoftext|>");

        assertArrayEquals(new int[] {CharVocabulary.idOf('a'), CharVocabulary.EOS_ID}, ids);
    }

    @Test
    void exposesVocabularyAndSpecialIds() {
        assertEquals(99, CharVocabulary.SIZE);
        assertEquals(CharVocabulary.SIZE, tokenizer.vocabSize());
        assertEquals(CharVocabulary.EOS_ID, tokenizer.eosId());
        assertEquals(CharVocabulary.PAD_ID, tokenizer.padId());
    }

    @Test
    void decodeRejectsIdsOutsideVocabulary() {
        IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
                () -> tokenizer.decode(new int[] {5, CharVocabulary.SIZE}));
        assertTrue(tooLarge.getMessage().contains("position 1"), tooLarge.getMessage());

        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(new int[] {-1}));
    }

    @Test
    void explicitIdsOverrideNamedTokens() throws IOException {
        Path file = folder.resolve("tokenizer.json");
        try (HfTokenizer custom = new HfTokenizer(folder, CharVocabulary.NEWLINE_ID, CharVocabulary.EOS_ID)) {
            assertEquals(CharVocabulary.NEWLINE_ID, custom.eosId());
            assertEquals(CharVocabulary.EOS_ID, custom.padId());
        }
        assertThrows(IllegalArgumentException.class, () -> new HfTokenizer(file, CharVocabulary.SIZE, 0));
    }

    @Test
    void missingFileNamesThePath() {
        Path missing = folder.resolve("absent/tokenizer.json");

        IOException error = assertThrows(IOException.class, () -> new HfTokenizer(missing));

        assertTrue(error.getMessage().contains("absent"), error.getMessage());
    }

    @Test
    void roundTripsGsm8kText() throws IOException {
        Path data = Path.of(System.getProperty("treepo.shared.dir", "/work/shared"), "data/gsm8k/test.jsonl");
        Assumptions.assumeTrue(Files.isRegularFile(data), "GSM8K test data not found at " + data);

        ObjectMapper mapper = new ObjectMapper();
        List<String> lines = Files.readAllLines(data);
        int checked = 0;
        for (String line : lines.subList(0, Math.min(200, lines.size()))) {
            JsonNode record = mapper.readTree(line);
            for (String field : new String[] {"question", "answer"}) {
                // The vocabulary is ASCII only, so other characters cannot round-trip.
                String text = keepVocabularyCharacters(record.path(field).asText());
                assertEquals(text, tokenizer.decode(tokenizer.encode(text)), "line " + (checked + 1));
            }
            checked++;
        }
        assertTrue(checked > 0, "no GSM8K records read from " + data);
    }

    private static String keepVocabularyCharacters(String text) {
        StringBuilder filtered = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            if (CharVocabulary.idOf(c) != CharVocabulary.UNK_ID) {
                filtered.append(c);
            }
        }
        return filtered.toString();
    }
}
