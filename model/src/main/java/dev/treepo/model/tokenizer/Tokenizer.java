package dev.treepo.model.tokenizer;

import java.util.OptionalInt;

/**
 * Converts between text and token ids of one model.
 *
 * <p>Ids at or above {@link #vocabSize()} are never valid, even though the model's embedding may
 * have padded rows beyond it: samplers must mask those logits, and {@link #decode} rejects them.
 */
public interface Tokenizer extends AutoCloseable {

    /** Encodes text to ids without adding special tokens (no BOS or EOS is inserted). */
    int[] encode(String text);

    /**
     * Decodes ids to text. Special tokens such as EOS and padding are dropped from the text, as
     * reward functions expect.
     *
     * @throws IllegalArgumentException if an id is negative or at or above {@link #vocabSize()}
     */
    String decode(int[] ids);

    /** Number of valid ids: one more than the largest id in the vocabulary or the added tokens. */
    int vocabSize();

    /** Id of the end-of-sequence token that stops generation. */
    int eosId();

    /** Id used to right-pad batches; padded positions are masked and never trained. */
    int padId();

    /**
     * Returns the id of {@code token} when it is a whole token of the vocabulary or an added token,
     * such as {@code <|im_start|>}; the default finds none.
     */
    default OptionalInt tokenId(String token) {
        return OptionalInt.empty();
    }

    /** Releases native resources; the default does nothing. */
    @Override
    default void close() {}
}
