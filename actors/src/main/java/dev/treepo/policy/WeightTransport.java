package dev.treepo.policy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Moves policy versions from the trainer to inference nodes outside ordinary actor messages. The
 * trainer side calls {@link #offer} once per node and version. The node side calls
 * {@link #receive} on what arrived and gets the weights with their verified checksum.
 */
public interface WeightTransport {

    /** Prepares the delivery of {@code weights} to {@code node}. */
    WeightDelivery offer(PolicyWeights weights, long checksum, ActorRef<?> node);

    /**
     * Resolves a delivery into weights. The stage fails when the received weights do not match the
     * delivery's version or checksum.
     */
    CompletionStage<Received> receive(WeightDelivery delivery);

    /** Weights as a node received them, and their checksum, verified against what arrived. */
    record Received(PolicyWeights weights, long checksum) {}

    /**
     * Returns the transport for nodes in the trainer's JVM. It hands over the published weights
     * without copying, so the received checksum is the published one and is not computed again.
     */
    static WeightTransport inMemory() {
        return new WeightTransport() {
            @Override
            public WeightDelivery offer(PolicyWeights weights, long checksum, ActorRef<?> node) {
                return new WeightDelivery(weights.version(), checksum, 0, weights, null);
            }

            @Override
            public CompletionStage<Received> receive(WeightDelivery delivery) {
                if (delivery.inMemory() == null) {
                    return CompletableFuture.failedFuture(new IllegalStateException("policy version "
                            + delivery.version() + " arrived as a stream, but this node has no stream transport;"
                            + " start it with the cluster node command"));
                }
                return CompletableFuture.completedFuture(new Received(delivery.inMemory(), delivery.checksum()));
            }
        };
    }
}
