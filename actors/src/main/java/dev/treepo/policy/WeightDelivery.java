package dev.treepo.policy;

import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.util.ByteString;

/**
 * Delivery of one policy version to one inference node: the weights themselves when the node runs in
 * the trainer's JVM, or a stream of encoded chunks when it does not. Exactly one of
 * {@code inMemory} and {@code stream} is set.
 *
 * @param version the policy version
 * @param checksum the trainer's {@link PolicyWeights#checksum()} of the version
 * @param bytes the length of the encoded stream, 0 when in memory
 * @param inMemory the weights, shared without copying, or null
 * @param stream the encoded weights, consumable once, or null
 */
public record WeightDelivery(
        long version, long checksum, long bytes, PolicyWeights inMemory, SourceRef<ByteString> stream) {

    public WeightDelivery {
        if ((inMemory == null) == (stream == null)) {
            throw new IllegalArgumentException("a weight delivery of version " + version
                    + " needs exactly one of in-memory weights and a stream");
        }
    }
}
