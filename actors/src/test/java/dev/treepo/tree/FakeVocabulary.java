package dev.treepo.tree;

/**
 * A tiny vocabulary for tree tests. Every token decodes to a fixed piece, so decoding a span on its
 * own gives exactly the characters that span contributes to the whole text.
 */
final class FakeVocabulary {

    static final int EOS = 0;
    static final int BOX_OPEN = 1;
    static final int BOX_CLOSE = 2;
    static final int BRACE_OPEN = 3;
    static final int FIRST_DIGIT = 4;
    static final int FIRST_LETTER = 14;
    static final int LETTERS = 26;
    static final int SPACE = FIRST_LETTER + LETTERS;
    static final int SIZE = SPACE + 1;

    private FakeVocabulary() {
    }

    static String piece(int token) {
        if (token == EOS) {
            return "";
        }
        if (token == BOX_OPEN) {
            return "\\boxed{";
        }
        if (token == BOX_CLOSE) {
            return "}";
        }
        if (token == BRACE_OPEN) {
            return "{";
        }
        if (token >= FIRST_DIGIT && token < FIRST_LETTER) {
            return String.valueOf((char) ('0' + token - FIRST_DIGIT));
        }
        if (token >= FIRST_LETTER && token < SPACE) {
            return String.valueOf((char) ('a' + token - FIRST_LETTER));
        }
        if (token == SPACE) {
            return " ";
        }
        throw new IllegalArgumentException("Token " + token + " is outside the fake vocabulary of " + SIZE);
    }

    static String decode(int[] tokens) {
        StringBuilder text = new StringBuilder();
        for (int token : tokens) {
            text.append(piece(token));
        }
        return text.toString();
    }

    static int letter(char c) {
        return FIRST_LETTER + (c - 'a');
    }

    static int digit(int d) {
        return FIRST_DIGIT + d;
    }

    /** Returns the tokens of a string of letters, digits, spaces and braces. */
    static int[] encode(String text) {
        int[] tokens = new int[text.length()];
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 'a' && c <= 'z') {
                tokens[i] = letter(c);
            } else if (c >= '0' && c <= '9') {
                tokens[i] = digit(c - '0');
            } else if (c == ' ') {
                tokens[i] = SPACE;
            } else if (c == '{') {
                tokens[i] = BRACE_OPEN;
            } else if (c == '}') {
                tokens[i] = BOX_CLOSE;
            } else {
                throw new IllegalArgumentException("Character '" + c + "' has no fake token");
            }
        }
        return tokens;
    }
}
