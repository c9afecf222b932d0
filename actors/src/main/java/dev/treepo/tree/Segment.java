package dev.treepo.tree;

/**
 * The tokens one node just decoded, as passed to a scenario.
 *
 * @param tokens generated token ids; the EOS token is included when {@code endedWithEos}
 * @param logprobs log-probability of each sampled token under the sampling policy
 * @param endedWithEos whether decoding stopped because the model emitted EOS
 * @param text decoded text of {@code tokens}
 */
public record Segment(int[] tokens, float[] logprobs, boolean endedWithEos, String text) {

    public Segment {
        if (tokens == null || logprobs == null || text == null) {
            throw new IllegalArgumentException("Segment tokens, logprobs and text must not be null.");
        }
        if (tokens.length != logprobs.length) {
            throw new IllegalArgumentException("Segment has " + tokens.length + " tokens but "
                    + logprobs.length + " logprobs; the worker must return one logprob per token.");
        }
    }
}
