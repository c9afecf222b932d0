package dev.treepo.model.train;

/**
 * Result of one RL step: per-update values averaged over its mini-batch updates.
 *
 * @param loss mean policy loss
 * @param clipFraction mean fraction of tokens whose PPO clip was active
 * @param dualClipFraction mean fraction of negative-advantage tokens capped by the dual clip
 * @param gradNorm mean global gradient norm before clipping, over the updates that were applied
 * @param approxKl mean of (old logprob - new logprob), the drift from the rollout policy
 * @param referenceKl mean k3 KL to the reference policy; 0 without a reference model
 * @param tokens trained tokens over all mini-batches (sum of the loss mask)
 * @param updates optimizer updates applied
 * @param skippedUpdates updates skipped because the gradient norm was NaN or infinite
 */
public record RlStats(
        double loss,
        double clipFraction,
        double dualClipFraction,
        double gradNorm,
        double approxKl,
        double referenceKl,
        double tokens,
        int updates,
        int skippedUpdates) {}
