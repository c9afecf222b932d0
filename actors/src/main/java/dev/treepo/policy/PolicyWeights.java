package dev.treepo.policy;

import dev.treepo.model.tensor.HostTensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * One published version of the policy: Hugging Face parameter names mapped to float32 copies.
 *
 * <p>The trainer makes a fresh copy for every version and never touches it again, so the map can be
 * handed to workers in the same JVM without copying. Version 0 is the starting checkpoint.
 */
public record PolicyWeights(long version, SortedMap<String, HostTensor> tensors) {

    public PolicyWeights {
        if (version < 0) {
            throw new IllegalArgumentException("policy version must be >= 0, got " + version);
        }
        tensors = Collections.unmodifiableSortedMap(new TreeMap<>(tensors));
    }

    /**
     * Returns a CRC-32C over the tensor names, shapes and float bits in name order: equal weights
     * give equal checksums on every JVM, so a worker's copy can be compared with the trainer's.
     * The version is not part of it.
     */
    public long checksum() {
        CRC32C crc = new CRC32C();
        ByteBuffer buffer = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (Map.Entry<String, HostTensor> entry : tensors.entrySet()) {
            crc.update(entry.getKey().getBytes(StandardCharsets.UTF_8));
            buffer.clear();
            buffer.putInt(entry.getValue().shape().length);
            for (long dimension : entry.getValue().shape()) {
                buffer.putLong(dimension);
            }
            buffer.flip();
            crc.update(buffer);
            float[] data = entry.getValue().data();
            for (int i = 0; i < data.length; ) {
                int count = Math.min(data.length - i, buffer.capacity() / Float.BYTES);
                buffer.clear();
                buffer.asFloatBuffer().put(data, i, count);
                buffer.limit(count * Float.BYTES);
                crc.update(buffer);
                i += count;
            }
        }
        return crc.getValue();
    }

    /** Returns the checksum as 8 hex digits, the form logs and reports show. */
    public static String hex(long checksum) {
        return String.format("%08x", checksum);
    }

    /** Returns the number of float parameters in this version. */
    public long parameterCount() {
        long count = 0;
        for (HostTensor tensor : tensors.values()) {
            count += tensor.numel();
        }
        return count;
    }
}
