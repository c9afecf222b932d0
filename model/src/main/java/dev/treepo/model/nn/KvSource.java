package dev.treepo.model.nn;

import ai.djl.ndarray.NDArray;

/**
 * Supplies the keys and values that each layer's attention reads, which is where a KV cache plugs
 * into {@link Qwen2Model#hiddenStates}.
 *
 * <p>Letters: B batch, T current tokens, S attended positions, K KV heads, E head size.
 */
@FunctionalInterface
public interface KvSource {

    /** Attends to the current tokens only, as a full forward pass without a cache does. */
    KvSource CURRENT_TOKENS = (layer, keys, values) -> new NDArray[] {keys, values};

    /**
     * Receives the current tokens' keys (after RoPE) and values of {@code layer}, each (B, T, K,
     * E), and returns the keys and values that attention reads, each (B, S, K, E). Position s of
     * the result is column s of the attention mask.
     */
    NDArray[] keysAndValues(int layer, NDArray keys, NDArray values);
}
