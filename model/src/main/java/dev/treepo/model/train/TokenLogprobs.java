package dev.treepo.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.util.Arrays;

/** Log-probabilities of given target tokens under a model's logits. */
public final class TokenLogprobs {

    private TokenLogprobs() {}

    /**
     * Returns log softmax(logits)[b, t, targets[b, t]], differentiable with respect to the logits.
     *
     * <p>The log-softmax is computed in one stable kernel, not as log(softmax). It materializes a
     * second (B, T, V) array, and autograd keeps that array until backward, so memory grows with
     * B * T * V.
     *
     * @param logits (B, T, V) float scores
     * @param targets (B, T) token ids, int64 or int32, each in [0, V)
     * @return (B, T) float32 log-probabilities, owned by the manager of {@code logits}
     * @throws IllegalArgumentException if the shapes do not match
     */
    public static NDArray of(NDArray logits, NDArray targets) {
        long[] logitShape = logits.getShape().getShape();
        long[] targetShape = targets.getShape().getShape();
        if (logitShape.length != 3 || targetShape.length != 2
                || logitShape[0] != targetShape[0] || logitShape[1] != targetShape[1]) {
            throw new IllegalArgumentException("Invalid shapes for token log-probabilities: logits "
                    + Arrays.toString(logitShape) + " must be (B, T, V) and targets "
                    + Arrays.toString(targetShape) + " must be (B, T) with the same B and T.");
        }

        NDArray wideTargets = targets.getDataType() == DataType.INT64 ? targets : targets.toType(DataType.INT64, false);
        try (NDArray index = wideTargets.expandDims(-1);
                NDArray logSoftmax = logits.logSoftmax(-1);
                NDArray gathered = logSoftmax.gather(index, -1)) {
            // Closing the Java handles is safe under autograd, which keeps its own references.
            return gathered.squeeze(-1);
        } finally {
            if (wideTargets != targets) {
                wideTargets.close();
            }
        }
    }
}
