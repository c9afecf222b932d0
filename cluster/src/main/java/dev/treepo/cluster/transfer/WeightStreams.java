package dev.treepo.cluster.transfer;

import dev.treepo.policy.PolicyWeights;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Pekko Streams ends of a weight transfer. The source encodes lazily, one chunk per downstream
 * demand. Over a StreamRef, the chunks in flight are bounded by the ref's buffer
 * (pekko.stream.materializer.stream-ref.buffer-capacity, 32 elements by default) plus the stage
 * buffers. The sink decodes into the final arrays as chunks arrive.
 *
 * <p>Over Artery each chunk travels as one message, so {@code
 * pekko.remote.artery.advanced.maximum-frame-size} must exceed the chunk size plus the envelope
 * (a few hundred bytes). The Artery default of 256 KiB is too small for {@link
 * #DEFAULT_CHUNK_BYTES}, and oversized messages are dropped, not split.
 */
public final class WeightStreams {

    /** Default chunk size in bytes (256 KiB). */
    public static final int DEFAULT_CHUNK_BYTES = 256 * 1024;

    private WeightStreams() {}

    /** Returns a source of {@link #DEFAULT_CHUNK_BYTES} chunks, computing the checksum now. */
    public static Source<ByteString, NotUsed> source(PolicyWeights weights) {
        return source(weights, DEFAULT_CHUNK_BYTES);
    }

    /**
     * Returns a source of the encoded weights in chunks of at most {@code chunkBytes}. The
     * checksum is computed now, on the calling thread, once for all materializations.
     */
    public static Source<ByteString, NotUsed> source(PolicyWeights weights, int chunkBytes) {
        return source(weights, chunkBytes, WeightChecksum.of(weights));
    }

    /**
     * Returns a source of the encoded weights with a checksum the caller already computed (the one
     * it announces to receivers). Each materialization encodes afresh and lazily.
     *
     * @param checksum must be {@code WeightChecksum.of(weights)}
     * @throws IllegalArgumentException if {@code chunkBytes} is not positive
     */
    public static Source<ByteString, NotUsed> source(PolicyWeights weights, int chunkBytes,
            long checksum) {
        if (chunkBytes <= 0) {
            throw new IllegalArgumentException("chunkBytes must be positive, got " + chunkBytes);
        }
        return Source.fromIterator(() -> new WeightEncoder(weights, chunkBytes, checksum))
                .map(ByteString::fromArrayUnsafe);
    }

    /**
     * Returns a sink that decodes one weight stream. Its completion stage completes with the
     * weights, or fails with {@link WeightTransferException} when the version, checksum, header or
     * length is wrong, or with the upstream's error when the stream itself fails.
     */
    public static Sink<ByteString, CompletionStage<PolicyWeights>> sink(long expectedVersion,
            long expectedChecksum) {
        // fromMaterializer gives each materialization its own decoder.
        Flow<ByteString, PolicyWeights, CompletionStage<NotUsed>> decode = Flow.fromMaterializer(
                (materializer, attributes) -> Flow.of(ByteString.class)
                        .fold(new WeightDecoder(expectedVersion, expectedChecksum),
                                WeightStreams::accept)
                        .map(WeightDecoder::finish));
        return decode.toMat(Sink.head(), Keep.right());
    }

    private static WeightDecoder accept(WeightDecoder decoder, ByteString chunk)
            throws WeightTransferException {
        for (ByteBuffer buffer : chunk.getByteBuffers()) {
            decoder.accept(buffer);
        }
        return decoder;
    }
}
