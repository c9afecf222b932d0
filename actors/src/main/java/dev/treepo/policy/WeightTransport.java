package dev.treepo.policy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Moves policy versions from the trainer to inference nodes outside ordinary actor messages. The
 * trainer side calls {@link #offer} once per node and version; the node side calls
 * {@link #receive} on what arrived and gets the weights with the checksum it computed itself.
 */
public interface WeightTransport {

    /** Prepares the delivery of {@code weights} to {@code node}. */
    WeightDelivery offer(PolicyWeights weights, long checksum, ActorRef<?> node);

    /**
     * Resolves a delivery into weights. The stage fails when the received weights do not match the
     * delivery's version or checksum.
     */
    CompletionStage<Received> receive(WeightDelivery delivery);

    /** Weights as a node received them, and the checksum the node computed over them. */
    record Received(PolicyWeights weights, long checksum) {}

    /** A transport for nodes in the trainer's JVM: hands over the published weights without copying. */
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
                return CompletableFuture.supplyAsync(
                        () -> new Received(delivery.inMemory(), delivery.inMemory().checksum()));
            }
        };
    }
}
