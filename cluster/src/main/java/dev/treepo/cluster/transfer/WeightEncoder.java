package dev.treepo.cluster.transfer;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Encodes one policy version as a safetensors byte stream, lazily, in chunks of at most
 * {@code chunkBytes}: the 8-byte little-endian header length, the JSON header ({@link
 * WeightHeader}), then each tensor's float32 data, little-endian, in name order. Concatenated,
 * the chunks form a valid .safetensors file.
 *
 * <p>Only the header and one chunk exist at a time, so memory beyond the weights themselves is
 * O(header + chunkBytes) however large the model. Every chunk but the last is exactly {@code
 * chunkBytes} long, and floats may straddle chunk boundaries. Each call to {@link #next} returns
 * a new array that the caller owns.
 *
 * <p>The tensors must not change while encoding. The encoder reads them as it goes, so a change
 * shows up at the receiver as a checksum mismatch. Not thread safe.
 */
public final class WeightEncoder implements Iterator<byte[]> {

    private final byte[] prefix;
    private final float[][] tensors;
    private final long checksum;
    private final int chunkBytes;
    private final long totalBytes;

    private long position;
    private int tensorIndex;
    private long byteInTensor;

    /** Creates an encoder, computing the checksum first (one pass over every float). */
    public WeightEncoder(PolicyWeights weights, int chunkBytes) {
        this(weights, chunkBytes, WeightChecksum.of(weights));
    }

    /**
     * Creates an encoder with a checksum the caller already computed.
     *
     * @param checksum must be {@code WeightChecksum.of(weights)}, because with a different value
     *     every receiver rejects the stream when it ends
     * @throws IllegalArgumentException if {@code chunkBytes} is not positive or a tensor name is
     *     empty or {@code __metadata__}
     */
    public WeightEncoder(PolicyWeights weights, int chunkBytes, long checksum) {
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunkBytes must be positive, got " + chunkBytes);
        }
        byte[] header = WeightHeader.describe(weights, checksum).toJsonBytes();
        if (header.length > WeightHeader.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("Weight stream header of policy version "
                    + weights.version() + " is " + header.length + " bytes, more than the "
                    + WeightHeader.MAX_HEADER_BYTES + " receivers accept. "
                    + weights.tensors().size()
                    + " tensors are too many names to send in one stream.");
        }
        this.prefix = ByteBuffer.allocate(Long.BYTES + header.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length)
                .put(header)
                .array();
        this.tensors = weights.tensors().values().stream()
                .map(HostTensor::data)
                .toArray(float[][]::new);
        this.checksum = checksum;
        this.chunkBytes = chunkBytes;
        this.totalBytes = prefix.length + Float.BYTES * weights.parameterCount();
    }

    /** Length of the whole encoding in bytes: header length, header and data. */
    public long totalBytes() {
        return totalBytes;
    }

    /** Returns the checksum written into the header. */
    public long checksum() {
        return checksum;
    }

    @Override
    public boolean hasNext() {
        return position < totalBytes;
    }

    @Override
    public byte[] next() {
        if (!hasNext()) {
            throw new NoSuchElementException("Weight stream already fully encoded: " + totalBytes
                    + " bytes");
        }
        int size = (int) Math.min(chunkBytes, totalBytes - position);
        byte[] chunk = new byte[size];
        int filled = 0;

        if (position < prefix.length) {
            int count = (int) Math.min(size, prefix.length - position);
            System.arraycopy(prefix, (int) position, chunk, 0, count);
            filled += count;
            position += count;
        }

        while (filled < size) {
            float[] data = tensors[tensorIndex];
            if (byteInTensor == (long) Float.BYTES * data.length) {
                tensorIndex++;
                byteInTensor = 0;
                continue;
            }
            int room = size - filled;
            int byteInFloat = (int) (byteInTensor % Float.BYTES);
            int floatIndex = (int) (byteInTensor / Float.BYTES);
            int written;
            if (byteInFloat == 0 && room >= Float.BYTES) {
                int count = Math.min(room / Float.BYTES, data.length - floatIndex);
                ByteBuffer.wrap(chunk, filled, count * Float.BYTES)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .asFloatBuffer()
                        .put(data, floatIndex, count);
                written = count * Float.BYTES;
            } else {
                // A float split across chunks: emit its little-endian bytes one at a time.
                int bits = Float.floatToRawIntBits(data[floatIndex]);
                chunk[filled] = (byte) (bits >>> (8 * byteInFloat));
                written = 1;
            }
            filled += written;
            byteInTensor += written;
            position += written;
        }
        return chunk;
    }
}
