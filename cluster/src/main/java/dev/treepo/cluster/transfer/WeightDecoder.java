package dev.treepo.cluster.transfer;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Decodes a weight stream written by {@link WeightEncoder} from chunks that arrive in order and
 * may split the header or a float anywhere. Float data goes straight into the final arrays, each
 * allocated once when its tensor's first byte is due, so decoding needs no second copy of the
 * model. The checksum is computed as bytes arrive.
 *
 * <p>Fails fast: a header with the wrong version or checksum is rejected before any tensor is
 * allocated, and bytes past the declared length are rejected when they arrive. {@link #finish}
 * checks the length and the checksum. After any failure the decoder is unusable. Not thread safe.
 */
public final class WeightDecoder {

    private final boolean checkExpectations;
    private final long expectedVersion;
    private final long expectedChecksum;

    private final ByteBuffer lengthBytes = ByteBuffer.allocate(Long.BYTES)
            .order(ByteOrder.LITTLE_ENDIAN);
    private byte[] headerBytes;
    private int headerFilled;

    private WeightHeader header;
    private List<WeightHeader.Entry> entries;
    private float[][] tensors;
    private final WeightChecksum checksum = new WeightChecksum();
    private int tensorIndex;
    private long byteInTensor;
    /** Bits of a float split across chunks, filled from its least significant byte. */
    private int partialBits;

    private long received;
    private boolean done;

    /**
     * Creates a decoder for a stream whose version and checksum were announced beforehand.
     *
     * @throws IllegalArgumentException if {@code expectedVersion} is negative
     */
    public WeightDecoder(long expectedVersion, long expectedChecksum) {
        if (expectedVersion < 0) {
            throw new IllegalArgumentException("expectedVersion must be >= 0, got "
                    + expectedVersion);
        }
        this.checkExpectations = true;
        this.expectedVersion = expectedVersion;
        this.expectedChecksum = expectedChecksum;
    }

    /** Creates a decoder that accepts any version and checks data against its own header. */
    public WeightDecoder() {
        this.checkExpectations = false;
        this.expectedVersion = -1;
        this.expectedChecksum = -1;
    }

    /** Returns the number of bytes consumed so far. */
    public long bytesReceived() {
        return received;
    }

    /**
     * Consumes the next chunk, from its position to its limit. The buffer's position and byte
     * order are left unchanged.
     *
     * @throws WeightTransferException if the header is invalid or unexpected, or the stream is
     *     longer than the header declares
     * @throws IllegalStateException after {@link #finish} or an earlier failure
     */
    public void accept(ByteBuffer chunk) throws WeightTransferException {
        if (done) {
            throw new IllegalStateException("Weight decoder already finished or failed. Create a "
                    + "new decoder for the next stream.");
        }
        ByteBuffer input = chunk.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        try {
            while (input.hasRemaining()) {
                if (header == null) {
                    readHeader(input);
                } else {
                    readTensorData(input);
                }
            }
        } catch (WeightTransferException | RuntimeException e) {
            done = true;
            throw e;
        }
    }

    /**
     * Checks that the whole stream arrived and its checksum matches, then returns the weights.
     *
     * @throws WeightTransferException if the stream ended early or the checksum differs
     */
    public PolicyWeights finish() throws WeightTransferException {
        if (done) {
            throw new IllegalStateException("Weight decoder already finished or failed. Create a "
                    + "new decoder for the next stream.");
        }
        done = true;
        if (header == null) {
            String needed = headerBytes == null ? "the 8-byte header length"
                    : "a " + headerBytes.length + "-byte header after the 8-byte length";
            throw new WeightTransferException("Truncated weight stream"
                    + (checkExpectations ? " for policy version " + expectedVersion : "")
                    + ": it ended after " + received + " bytes, before " + needed
                    + " was complete. Fetch the version again.");
        }
        if (tensorIndex < entries.size()) {
            WeightHeader.Entry entry = entries.get(tensorIndex);
            throw new WeightTransferException("Truncated weight stream for policy version "
                    + header.version() + ": it ended inside tensor " + entry.name() + " at byte "
                    + byteInTensor + " of " + (entry.end() - entry.begin()) + ", after "
                    + received + " of " + totalBytes() + " bytes. Fetch the version again.");
        }
        long computed = checksum.value();
        if (computed != header.checksum()) {
            throw new WeightTransferException("Checksum mismatch for policy version "
                    + header.version() + ": the " + entries.size() + " received tensors give "
                    + WeightChecksum.hex(computed) + " but the header declares "
                    + WeightChecksum.hex(header.checksum()) + ". Bytes changed in transit or the "
                    + "sender's tensors changed while it encoded them. Fetch the version again.");
        }

        SortedMap<String, HostTensor> result = new TreeMap<>();
        for (int i = 0; i < entries.size(); i++) {
            result.put(entries.get(i).name(), new HostTensor(entries.get(i).shape(), tensors[i]));
            tensors[i] = null;
        }
        return new PolicyWeights(header.version(), result);
    }

    private long totalBytes() {
        return Long.BYTES + headerBytes.length + header.dataBytes();
    }

    private void readHeader(ByteBuffer input) throws WeightTransferException {
        if (headerBytes == null) {
            while (lengthBytes.hasRemaining() && input.hasRemaining()) {
                lengthBytes.put(input.get());
                received++;
            }
            if (lengthBytes.hasRemaining()) {
                return;
            }
            long length = lengthBytes.getLong(0);
            if (length < 2 || length > WeightHeader.MAX_HEADER_BYTES) {
                throw new WeightTransferException("Invalid weight stream"
                        + (checkExpectations ? " for policy version " + expectedVersion : "")
                        + ": header length " + length + " is not between 2 and "
                        + WeightHeader.MAX_HEADER_BYTES + " bytes. The stream is not in "
                        + "safetensors layout or is corrupted. Fetch the version again.");
            }
            headerBytes = new byte[(int) length];
        }

        int count = Math.min(input.remaining(), headerBytes.length - headerFilled);
        input.get(headerBytes, headerFilled, count);
        headerFilled += count;
        received += count;
        if (headerFilled == headerBytes.length) {
            startData(WeightHeader.parse(headerBytes));
        }
    }

    private void startData(WeightHeader parsed) throws WeightTransferException {
        if (checkExpectations && parsed.version() != expectedVersion) {
            throw new WeightTransferException("Wrong policy version in weight stream: expected "
                    + expectedVersion + " but the header declares " + parsed.version()
                    + ". The sender streamed a different version than it announced. Request the "
                    + "announced version again.");
        }
        if (checkExpectations && parsed.checksum() != expectedChecksum) {
            throw new WeightTransferException("Checksum mismatch for policy version "
                    + parsed.version() + ": the announcement gave "
                    + WeightChecksum.hex(expectedChecksum) + " but the stream header declares "
                    + WeightChecksum.hex(parsed.checksum()) + ". The sender streamed different "
                    + "weights than it announced. Request the version again.");
        }
        header = parsed;
        entries = parsed.entries();
        tensors = new float[entries.size()][];
        enterTensors();
    }

    /** Moves past finished tensors, allocating and checksumming the prefix of the next one. */
    private void enterTensors() {
        while (tensorIndex < entries.size()) {
            WeightHeader.Entry entry = entries.get(tensorIndex);
            if (tensors[tensorIndex] == null) {
                tensors[tensorIndex] = new float[entry.numel()];
                checksum.beginTensor(entry.name(), entry.shape());
                byteInTensor = 0;
            }
            if (byteInTensor < entry.end() - entry.begin()) {
                return;
            }
            tensorIndex++;
        }
    }

    private void readTensorData(ByteBuffer input) throws WeightTransferException {
        if (tensorIndex == entries.size()) {
            throw new WeightTransferException("Weight stream for policy version "
                    + header.version() + " is longer than its header declares: expected "
                    + totalBytes() + " bytes, received at least " + (received + 1)
                    + ". Fetch the version again.");
        }
        WeightHeader.Entry entry = entries.get(tensorIndex);
        float[] data = tensors[tensorIndex];
        int count = (int) Math.min(input.remaining(), entry.end() - entry.begin() - byteInTensor);

        ByteBuffer span = input.slice().order(ByteOrder.LITTLE_ENDIAN);
        span.limit(count);
        checksum.updateData(span.duplicate());

        while (span.hasRemaining()) {
            int byteInFloat = (int) (byteInTensor % Float.BYTES);
            int floatIndex = (int) (byteInTensor / Float.BYTES);
            if (byteInFloat == 0 && span.remaining() >= Float.BYTES) {
                int floats = span.remaining() / Float.BYTES;
                span.asFloatBuffer().get(data, floatIndex, floats);
                span.position(span.position() + floats * Float.BYTES);
                byteInTensor += (long) floats * Float.BYTES;
            } else {
                // A float split across chunks: collect its little-endian bytes one at a time.
                partialBits |= (span.get() & 0xFF) << (8 * byteInFloat);
                byteInTensor++;
                if (byteInFloat == Float.BYTES - 1) {
                    data[floatIndex] = Float.intBitsToFloat(partialBits);
                    partialBits = 0;
                }
            }
        }

        input.position(input.position() + count);
        received += count;
        enterTensors();
    }
}
