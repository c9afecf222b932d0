package dev.treepo.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;

import dev.treepo.model.config.Qwen2Config;

import java.util.Arrays;

/**
 * The Qwen2 decoder forward pass on DJL NDArrays, following Hugging Face {@code
 * modeling_qwen2.py}: RMSNorm, rotary embeddings, grouped-query attention with q/k/v biases, SwiGLU
 * MLP, and a tied or untied LM head.
 *
 * <p>Letters in shape comments: B batch, T tokens per row, S attended positions, V vocabulary, D
 * hidden size, H query heads, K KV heads, G = H / K query heads per KV head, E head size, I MLP
 * width.
 *
 * <p>Every operation is differentiable, so {@link #forward} runs under a DJL {@code
 * GradientCollector} when the weights require gradients. Intermediate and returned arrays belong
 * to the manager of the input ids: run a pass inside a sub-manager or an {@code NDScope} and keep
 * only what is needed. The weights are read, never modified.
 */
public final class Qwen2Model {

    private final Qwen2Config config;
    private final Qwen2Weights weights;
    private final RotaryEmbedding rotary;

    public Qwen2Model(Qwen2Config config, Qwen2Weights weights) {
        if (!config.equals(weights.config())) {
            throw new IllegalArgumentException("Weights were built for " + weights.config()
                    + " but the model config is " + config);
        }
        this.config = config;
        this.weights = weights;
        this.rotary = new RotaryEmbedding(config);
    }

    public Qwen2Config config() {
        return config;
    }

    public Qwen2Weights weights() {
        return weights;
    }

    /**
     * Computes logits for every position of every row, with causal attention and positions 0..T-1
     * in each row. Right padding therefore never changes the logits of earlier positions.
     *
     * @param inputIds token ids (B, T), int64 or int32
     * @return logits (B, T, V), float32
     */
    public NDArray forward(NDArray inputIds) {
        NDManager manager = inputIds.getManager();
        int tokens = Math.toIntExact(inputIds.getShape().get(1));

        // positions 0..T-1, shared by all rows
        int[] positions = new int[tokens];
        Arrays.setAll(positions, t -> t);

        // causal mask: 0 where key s <= query t, -inf above the diagonal: (1, 1, 1, T, T)
        float[] mask = new float[tokens * tokens];
        for (int t = 0; t < tokens; t++) {
            Arrays.fill(mask, t * tokens + t + 1, (t + 1) * tokens, Float.NEGATIVE_INFINITY);
        }
        NDArray causalMask = manager.create(mask, new Shape(1, 1, 1, tokens, tokens));

        NDArray hidden = hiddenStates(inputIds, positions, causalMask, KvSource.CURRENT_TOKENS);
        return logits(hidden);
    }

    /**
     * Runs the decoder layers and returns the residual stream before the final norm.
     *
     * @param inputIds token ids (B, T)
     * @param positions absolute position of each token, row-major over (B, T), or T values shared
     *     by all rows
     * @param mask additive attention mask broadcastable to (B, K, G, T, S): 0 where a query may
     *     attend to a key, {@code -inf} where it may not. Every query row needs one 0
     * @param kvSource supplies the S keys and values each layer attends to
     * @return hidden states (B, T, D)
     */
    public NDArray hiddenStates(NDArray inputIds, int[] positions, NDArray mask,
            KvSource kvSource) {
        NDManager manager = inputIds.getManager();
        long batch = inputIds.getShape().get(0);
        long tokens = inputIds.getShape().get(1);
        int heads = config.numAttentionHeads();
        int kvHeads = config.numKeyValueHeads();
        int headDim = config.headDim();
        if (positions.length != tokens && positions.length != batch * tokens) {
            throw new IllegalArgumentException("Expected " + tokens + " or " + batch * tokens
                    + " positions for input ids of shape " + inputIds.getShape() + ", got "
                    + positions.length);
        }
        NDArray ids = inputIds.getDataType() == DataType.INT64
                ? inputIds : inputIds.toType(DataType.INT64, false);

        // rotary tables: (B or 1, T, 1, E), broadcast over heads
        long tableRows = positions.length == tokens ? 1 : batch;
        RotaryEmbedding.Tables rope =
                rotary.tables(manager, positions, new Shape(tableRows, tokens, 1, headDim));

        // token embeddings: (B, T, D)
        NDArray x = weights.embedTokens().get(manager, new NDIndex("{}", ids));

        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            Qwen2Weights.Layer w = weights.layers().get(layer);

            // attention norm: (B, T, D)
            NDArray h = rmsNorm(x, w.inputNorm());

            // q, k, v projections with bias: (B, T, H, E) and (B, T, K, E)
            NDArray q = linear(h, w.qProj(), w.qBias()).reshape(batch, tokens, heads, headDim);
            NDArray k = linear(h, w.kProj(), w.kBias()).reshape(batch, tokens, kvHeads, headDim);
            NDArray v = linear(h, w.vProj(), w.vBias()).reshape(batch, tokens, kvHeads, headDim);

            // rotary embeddings on queries and keys
            q = rope.apply(q);
            k = rope.apply(k);

            // keys and values to attend to: (B, S, K, E) each
            NDArray[] kv = kvSource.keysAndValues(layer, k, v);

            // grouped-query attention: (B, T, H*E)
            NDArray attention = attend(q, kv[0], kv[1], mask);

            // output projection and residual: (B, T, D)
            x = x.add(linear(attention, w.oProj(), null));

            // MLP norm: (B, T, D)
            h = rmsNorm(x, w.postAttentionNorm());

            // SwiGLU: down(silu(gate(h)) * up(h)): (B, T, I) -> (B, T, D)
            NDArray gate = linear(h, w.gateProj(), null);
            NDArray up = linear(h, w.upProj(), null);
            NDArray activated = gate.mul(Activation.sigmoid(gate)).mul(up);

            // MLP residual: (B, T, D)
            x = x.add(linear(activated, w.downProj(), null));
        }
        return x;
    }

    /**
     * Applies the final norm and the LM head.
     *
     * @param hidden residual stream (..., D)
     * @return logits (..., V)
     */
    public NDArray logits(NDArray hidden) {
        NDArray normed = rmsNorm(hidden, weights.finalNorm());
        return linear(normed, weights.lmHead(), null);
    }

    /**
     * Attends with the G query heads of each KV head folded into the query rows, so K and V are
     * multiplied as stored instead of being repeated G times: (B, K, G*T, E) x (B, K, E, S).
     * Query head h uses KV head h / G, as in transformers' {@code repeat_kv}.
     *
     * @param q queries (B, T, H, E)
     * @param k keys (B, S, K, E)
     * @param v values (B, S, K, E)
     * @param mask additive mask broadcastable to (B, K, G, T, S)
     * @return attention output (B, T, H*E)
     */
    private NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask) {
        long batch = q.getShape().get(0);
        long tokens = q.getShape().get(1);
        long keys = k.getShape().get(1);
        int kvHeads = config.numKeyValueHeads();
        int group = config.groupSize();
        int headDim = config.headDim();

        // scaled queries with the group folded into rows: (B, K, G*T, E)
        NDArray rows = q.mul(1.0 / Math.sqrt(headDim))
                .reshape(batch, tokens, kvHeads, group, headDim)
                .transpose(0, 2, 3, 1, 4)
                .reshape(batch, kvHeads, group * tokens, headDim);

        // scores: (B, K, G*T, S)
        NDArray scores = rows.matMul(k.transpose(0, 2, 3, 1));

        // masked softmax over keys: (B, K, G, T, S)
        NDArray probabilities = scores.reshape(batch, kvHeads, group, tokens, keys)
                .add(mask)
                .softmax(4);

        // weighted values: (B, K, G*T, E)
        NDArray mixed = probabilities.reshape(batch, kvHeads, group * tokens, keys)
                .matMul(v.transpose(0, 2, 1, 3));

        // heads back to the feature axis: (B, T, H*E)
        return mixed.reshape(batch, kvHeads, group, tokens, headDim)
                .transpose(0, 3, 1, 2, 4)
                .reshape(batch, tokens, (long) kvHeads * group * headDim);
    }

    /** RMSNorm over the last axis: {@code weight * x / sqrt(mean(x^2) + eps)}. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray inverseRms = x.square().mean(new int[] {-1}, true)
                .add(config.rmsNormEps())
                .pow(-0.5);
        return x.mul(inverseRms).mul(weight);
    }

    /** {@code x @ weight^T + bias} with a (out, in) weight, as torch's {@code F.linear}. */
    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias))
                .singletonOrThrow();
    }
}
