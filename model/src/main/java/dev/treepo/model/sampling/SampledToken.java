package dev.treepo.model.sampling;

/**
 * A drawn token id and its log-probability.
 *
 * @param id the token id, below the valid vocabulary size
 * @param logprob natural log of the token's probability under softmax(logits / temperature) over
 *     the valid vocabulary, before top-k and top-p truncation (temperature 1 for greedy decoding)
 */
public record SampledToken(int id, float logprob) {}
