package dev.treepo.cluster.transfer;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * CRC32C over the tensors of one policy version, in name order. For each tensor it covers the
 * UTF-8 name, the rank as a little-endian int, each dimension as a little-endian long, and then
 * the float32 bits in little-endian order. Those float bytes are exactly the tensor's bytes in
 * the data section of the wire format. The policy version is not covered because the header
 * carries it separately.
 * {@link PolicyWeights#checksum()} computes the same value in one pass; this class adds the
 * incremental form.
 *
 * <p>The value depends only on these bytes, so equal weights give equal checksums on every JVM.
 * Float bits are taken raw ({@link Float#floatToRawIntBits}), so two NaNs with different payloads
 * give different checksums even though {@link HostTensor#equals} calls them equal.
 *
 * <p>An instance is the incremental form that the decoder feeds while bytes arrive. It is not
 * thread safe.
 */
public final class WeightChecksum {

    private final CRC32C crc = new CRC32C();

    WeightChecksum() {}

    /** Returns the checksum of {@code weights}, the same value as {@link PolicyWeights#checksum()}. */
    public static long of(PolicyWeights weights) {
        return weights.checksum();
    }

    /** Formats a checksum as 8 lowercase hex digits, the form stored in the stream header. */
    public static String hex(long checksum) {
        return PolicyWeights.hex(checksum);
    }

    /**
     * Adds the name and shape of the next tensor. Call it before the tensor's data, in name order.
     */
    void beginTensor(String name, long[] shape) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        crc.update(nameBytes);
        ByteBuffer prefix = ByteBuffer.allocate(Integer.BYTES + Long.BYTES * shape.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        prefix.putInt(shape.length);
        for (long dimension : shape) {
            prefix.putLong(dimension);
        }
        crc.update(prefix.flip());
    }

    /** Adds little-endian float32 bytes of the current tensor, consuming {@code bytes}. */
    void updateData(ByteBuffer bytes) {
        crc.update(bytes);
    }

    long value() {
        return crc.getValue();
    }
}
