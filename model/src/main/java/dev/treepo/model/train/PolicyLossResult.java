package dev.treepo.model.train;

import ai.djl.ndarray.NDArray;

/**
 * A policy loss ready for backward, with diagnostics averaged over the trained tokens (weighted
 * by the loss mask).
 *
 * @param loss scalar to minimize; differentiable with respect to the current log-probabilities
 * @param clipFraction fraction of tokens whose clipped surrogate is the larger term, so their
 *     gradient is zero
 * @param dualClipFraction fraction of tokens with a negative advantage capped by the dual clip
 * @param approxKl mean of (old logprob - new logprob), an estimate of KL(old || new)
 * @param referenceKl mean of the k3 estimator of KL(new || reference); 0 without a reference
 * @param tokens number of trained tokens, the sum of the loss mask
 */
public record PolicyLossResult(
        NDArray loss,
        double clipFraction,
        double dualClipFraction,
        double approxKl,
        double referenceKl,
        double tokens) {}
