package dev.treepo.model.kv;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import dev.treepo.model.config.Qwen2Config;

import java.util.ArrayList;
import java.util.List;

/**
 * Per-layer key and value pools addressed by the slot indices of a {@link KvBlockManager}.
 *
 * <p>Each pool is one float32 NDArray of shape (slots + 1, K*E): row r contains the key (or value) of
 * all K KV heads of the token in slot r. The extra last row is the {@linkplain #paddingSlot()
 * padding slot}, where padded positions of a batch write and which masked positions read, so that
 * every batch row can use one rectangular index without special cases. Reads gather a batch's rows
 * with one advanced-indexing call per pool.
 */
public final class KvCache implements AutoCloseable {

    private final NDManager manager;
    private final int slots;
    private final int kvHeads;
    private final int headDim;
    private final List<NDArray> keyPools = new ArrayList<>(); // per layer: (slots + 1, K*E)
    private final List<NDArray> valuePools = new ArrayList<>(); // per layer: (slots + 1, K*E)

    /**
     * Allocates zeroed pools in a sub-manager of {@code parent}.
     *
     * @param slots usable slots, normally {@link KvBlockManager#totalSlots()}
     */
    public KvCache(NDManager parent, Qwen2Config config, int slots) {
        this.manager = parent.newSubManager();
        this.slots = slots;
        this.kvHeads = config.numKeyValueHeads();
        this.headDim = config.headDim();
        Shape shape = new Shape(slots + 1L, (long) kvHeads * headDim);
        for (int layer = 0; layer < config.numHiddenLayers(); layer++) {
            keyPools.add(manager.zeros(shape, DataType.FLOAT32));
            valuePools.add(manager.zeros(shape, DataType.FLOAT32));
        }
    }

    /** Index of the scratch row that padded positions write and masked positions read. */
    public int paddingSlot() {
        return slots;
    }

    /** Bytes held by all pools. */
    public long bytes() {
        return 2L * keyPools.size() * (slots + 1L) * kvHeads * headDim * Float.BYTES;
    }

    /**
     * Writes the keys and values of N tokens into their slots of {@code layer}.
     *
     * @param slotIndices int64 (N), with duplicates allowed only for the padding slot
     * @param keys (N, K*E) or any shape with N*K*E elements in token-major order
     * @param values same shape as {@code keys}
     */
    public void write(int layer, NDArray slotIndices, NDArray keys, NDArray values) {
        long rows = slotIndices.getShape().get(0);
        NDIndex index = new NDIndex("{}", slotIndices);
        keyPools.get(layer).set(index, keys.reshape(rows, (long) kvHeads * headDim));
        valuePools.get(layer).set(index, values.reshape(rows, (long) kvHeads * headDim));
    }

    /**
     * Gathers the keys and values of a batch of slot lists into {@code target}.
     *
     * @param slotIndices int64 (B, S)
     * @return keys and values, each (B, S, K, E), owned by {@code target}
     */
    public NDArray[] gather(int layer, NDArray slotIndices, NDManager target) {
        long batch = slotIndices.getShape().get(0);
        long positions = slotIndices.getShape().get(1);
        NDIndex index = new NDIndex("{}", slotIndices);
        NDArray keys = keyPools.get(layer).get(target, index)
                .reshape(batch, positions, kvHeads, headDim);
        NDArray values = valuePools.get(layer).get(target, index)
                .reshape(batch, positions, kvHeads, headDim);
        return new NDArray[] {keys, values};
    }

    /** Releases the pools. */
    @Override
    public void close() {
        manager.close();
    }
}
