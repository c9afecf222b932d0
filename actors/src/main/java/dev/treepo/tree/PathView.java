package dev.treepo.tree;

/**
 * Read-only view of one path from the prompt to its newest node, given to a {@link Scenario}.
 *
 * <p>The response is everything after the prompt: generated tokens (loss mask 1) and tokens a
 * scenario appended (loss mask 0, logprob 0). The array accessors return copies.
 */
public interface PathView {

    /** Returns the prompt token ids. */
    int[] promptTokens();

    /** Returns the response token ids: generated and appended tokens in context order. */
    int[] responseTokens();

    /** Returns one logprob per response token; 0 for appended tokens. */
    float[] logprobs();

    /** Returns one loss mask value per response token: 1 for generated tokens, 0 for appended ones. */
    float[] lossMask();

    /** Returns the number of response tokens, without copying them. */
    int responseLength();

    /** Returns the number of segments (nodes) on the path, counting the one just decoded. */
    int depth();

    /**
     * Returns the number of response tokens each node contributed, appended tokens included, so the lengths
     * sum to {@link #responseLength()}.
     */
    int[] segmentLengths();

    /**
     * Returns the decoded text of all generated tokens of the path, segment texts concatenated.
     * Appended tokens contribute no text. After a fallback cut inside a segment the kept part is
     * re-decoded, so the text always matches the kept tokens.
     */
    String responseText();
}
