package dev.treepo.cluster.node;

import dev.treepo.cluster.transfer.WeightEncoder;
import dev.treepo.cluster.transfer.WeightStreams;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.policy.WeightDelivery;
import dev.treepo.policy.WeightTransport;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;

/**
 * Weight transport of a cluster. A node in this JVM gets the weights in memory. A node elsewhere
 * gets a StreamRef of encoded chunks, which it pulls with back-pressure and decodes into the final
 * arrays while it computes the checksum. The trainer side encodes each chunk when it is demanded, so
 * neither side holds a second copy of the weights.
 */
public final class StreamWeightTransport implements WeightTransport {

    private final ActorSystem<?> system;
    private final int chunkBytes;
    private final WeightTransport local = WeightTransport.inMemory();

    public StreamWeightTransport(ActorSystem<?> system, int chunkBytes) {
        this.system = system;
        this.chunkBytes = chunkBytes;
    }

    @Override
    public WeightDelivery offer(PolicyWeights weights, long checksum, ActorRef<?> node) {
        if (node.path().address().hasLocalScope()) {
            return local.offer(weights, checksum, node);
        }
        long bytes = new WeightEncoder(weights, chunkBytes, checksum).totalBytes();
        SourceRef<ByteString> stream = WeightStreams.source(weights, chunkBytes, checksum)
                .runWith(StreamRefs.sourceRef(), system);
        return new WeightDelivery(weights.version(), checksum, bytes, null, stream);
    }

    @Override
    public CompletionStage<Received> receive(WeightDelivery delivery) {
        if (delivery.inMemory() != null) {
            return local.receive(delivery);
        }
        // The sink fails unless the decoded weights have the announced checksum.
        return delivery.stream().getSource()
                .runWith(WeightStreams.sink(delivery.version(), delivery.checksum()), system)
                .thenApply(weights -> new Received(weights, delivery.checksum()));
    }
}
