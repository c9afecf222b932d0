package dev.treepo.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * PPO clipped surrogate with asymmetric clipping, a dual clip for negative advantages and an
 * optional KL penalty to a reference policy, averaged over trained tokens.
 *
 * <p>Per token, with ratio r = exp(logp - oldLogp) and advantage A:
 * <pre>
 *   l = max(-A * r, -A * clip(r, 1 - clipLow, 1 + clipHigh))
 *   l = min(l, -A * dualClip)                        only where A &lt; 0
 *   loss = sum(l * mask) / sum(mask)
 *        + klCoef * sum(k3 * mask) / sum(mask),      k3 = exp(ref - logp) - (ref - logp) - 1
 * </pre>
 * The token mean divides by the number of trained tokens in the arrays passed (one mini-batch),
 * so long responses weigh more than short ones (verl's {@code token-mean}). Log-ratios are clamped
 * to [-20, 20] before {@code exp}, as verl does, so a stale old log-probability cannot overflow
 * the ratio. Scalars enter the graph as float32, because a float64 scalar would promote a
 * 0-dimensional float32 result to float64.
 *
 * @param clipLow lower clip range: with A &lt; 0, ratios below 1 - clipLow get no gradient
 * @param clipHigh upper clip range ("clip-higher"): with A &gt; 0, ratios above 1 + clipHigh get
 *     no gradient
 * @param dualClip cap c on the loss of negative-advantage tokens, as a multiple of -A; above 1
 * @param klCoef weight of the reference KL term; 0 turns it off
 */
public record PolicyLoss(double clipLow, double clipHigh, double dualClip, double klCoef) {

    private static final float MAX_LOG_RATIO = 20;

    public PolicyLoss {
        if (!(clipLow >= 0 && clipLow < 1)) {
            throw new IllegalArgumentException("Invalid clipLow " + clipLow + ": expected a value in [0, 1).");
        }
        if (!(clipHigh >= 0) || Double.isInfinite(clipHigh)) {
            throw new IllegalArgumentException("Invalid clipHigh " + clipHigh + ": expected a finite value >= 0.");
        }
        if (!(dualClip > 1) || Double.isInfinite(dualClip)) {
            throw new IllegalArgumentException("Invalid dualClip " + dualClip + ": expected a finite value > 1.");
        }
        if (!(klCoef >= 0) || Double.isInfinite(klCoef)) {
            throw new IllegalArgumentException("Invalid klCoef " + klCoef + ": expected a finite value >= 0.");
        }
    }

    /** Returns the TreePO (verl) settings: clip 0.2 / 0.28, dual clip 10, no KL. */
    public static PolicyLoss defaults() {
        return new PolicyLoss(0.2, 0.28, 10, 0);
    }

    /**
     * Computes the loss. All inputs have the same shape, typically (B, T) over response positions.
     *
     * <p>Arrays created here belong to the managers of the inputs; run this inside an
     * {@link NDScope} or a per-step manager. The metrics are read back to the host, which waits
     * for the computation.
     *
     * @param logprobs current log-probabilities of the taken tokens, differentiable
     * @param oldLogprobs log-probabilities under the policy that produced the data; no gradient
     * @param advantages per-token advantages
     * @param mask 1 for trained tokens, 0 for prompt and padding; fractional weights are allowed
     * @param referenceLogprobs reference-policy log-probabilities, or null when klCoef is 0
     * @throws IllegalArgumentException if the shapes differ, or klCoef is positive and the
     *     reference log-probabilities are missing
     */
    public PolicyLossResult compute(
            NDArray logprobs, NDArray oldLogprobs, NDArray advantages, NDArray mask, NDArray referenceLogprobs) {
        Shape shape = logprobs.getShape();
        requireShape("oldLogprobs", oldLogprobs, shape);
        requireShape("advantages", advantages, shape);
        requireShape("mask", mask, shape);
        if (referenceLogprobs != null) {
            requireShape("referenceLogprobs", referenceLogprobs, shape);
        } else if (klCoef > 0) {
            throw new IllegalArgumentException("klCoef is " + klCoef
                    + " but no reference log-probabilities were given; pass them or set klCoef to 0.");
        }

        NDArray trained = mask.gt(0);
        NDArray tokens = mask.sum();
        NDArray denominator = tokens.maximum(1f);

        // Masked positions get log-ratio 0, so padding can never produce inf * 0 = NaN.
        NDArray logRatio = NDArrays.where(trained, logprobs.sub(oldLogprobs), logprobs.zerosLike())
                .clip(-MAX_LOG_RATIO, MAX_LOG_RATIO);
        NDArray ratio = logRatio.exp();
        NDArray negativeAdvantage = advantages.neg();
        NDArray unclipped = negativeAdvantage.mul(ratio);
        NDArray clipped = negativeAdvantage.mul(ratio.clip((float) (1 - clipLow), (float) (1 + clipHigh)));
        NDArray clipLoss = NDArrays.maximum(unclipped, clipped);
        NDArray dualBound = negativeAdvantage.mul((float) dualClip);
        NDArray negative = advantages.lt(0);
        NDArray perToken = NDArrays.where(negative, NDArrays.minimum(clipLoss, dualBound), clipLoss);
        NDArray loss = perToken.mul(mask).sum().div(denominator);

        double referenceKl = 0;
        if (referenceLogprobs != null) {
            NDArray delta = NDArrays.where(trained, referenceLogprobs.sub(logprobs), logprobs.zerosLike())
                    .clip(-MAX_LOG_RATIO, MAX_LOG_RATIO);
            NDArray k3 = delta.exp().sub(delta).sub(1f);
            NDArray klMean = k3.mul(mask).sum().div(denominator);
            referenceKl = scalar(klMean);
            if (klCoef > 0) {
                loss = loss.add(klMean.mul((float) klCoef));
            }
        }

        NDArray clippedTokens = clipped.gt(unclipped).logicalAnd(trained);
        NDArray dualClippedTokens = negative.logicalAnd(clipLoss.gt(dualBound)).logicalAnd(trained);
        double tokenCount = scalar(tokens);
        double scale = 1 / Math.max(tokenCount, 1);
        return new PolicyLossResult(
                loss,
                maskedSum(clippedTokens, mask) * scale,
                maskedSum(dualClippedTokens, mask) * scale,
                scalar(oldLogprobs.sub(logprobs).mul(mask).sum()) * scale,
                referenceKl,
                tokenCount);
    }

    private static void requireShape(String name, NDArray array, Shape expected) {
        if (!array.getShape().equals(expected)) {
            throw new IllegalArgumentException("Invalid shape of " + name + ": " + array.getShape()
                    + ", expected " + expected + " like the log-probabilities.");
        }
    }

    private static double scalar(NDArray array) {
        return array.stopGradient().toType(DataType.FLOAT64, false).getDouble();
    }

    private static double maskedSum(NDArray condition, NDArray mask) {
        return scalar(condition.toType(mask.getDataType(), false).mul(mask).sum());
    }
}
