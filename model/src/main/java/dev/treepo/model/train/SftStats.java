package dev.treepo.model.train;

/**
 * Result of one supervised step.
 *
 * @param loss mean next-token cross-entropy over trained response tokens, in nats
 * @param gradNorm global gradient L2 norm before clipping; NaN or infinite if the update was skipped
 * @param tokens trained tokens (sum of the loss mask)
 */
public record SftStats(double loss, double gradNorm, double tokens) {}
