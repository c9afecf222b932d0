package dev.treepo.cluster.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.time.Duration;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Weight streams between two ActorSystems in one JVM over Artery on 127.0.0.1: the offer message
 * carrying the SourceRef is serialized with Jackson CBOR, Java serialization is off, and every
 * chunk crosses TCP.
 */
class WeightStreamRefTest {

    /** Marker of this test's messages between the systems, bound to jackson-cbor below. */
    interface CborMessage {}

    /** Announces a policy version and the stream that carries it. */
    record WeightOffer(long version, long checksum, SourceRef<ByteString> chunks)
            implements CborMessage {}

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static ActorSystem<Void> sender;
    private static ActorSystem<Void> receiver;

    @BeforeAll
    static void startSystems() {
        Config config = ConfigFactory.parseString("""
                pekko.actor.serialization-bindings {
                  "dev.treepo.cluster.transfer.WeightStreamRefTest$CborMessage" = jackson-cbor
                }
                """)
                .withFallback(WeightSyncMeasurement.loopbackConfig())
                .withFallback(ConfigFactory.load());
        sender = ActorSystem.create(Behaviors.empty(), "weight-sender", config);
        receiver = ActorSystem.create(Behaviors.empty(), "weight-receiver", config);
    }

    @AfterAll
    static void stopSystems() throws Exception {
        sender.terminate();
        receiver.terminate();
        sender.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
        receiver.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void offerCrossesSystemsAsCborAndStreams() throws Exception {
        PolicyWeights weights = TestWeights.randomPolicy(12, 5);
        long checksum = WeightChecksum.of(weights);
        CompletableFuture<PolicyWeights> received = new CompletableFuture<>();
        ActorRef<WeightOffer> remoteReceiver = remoteReceiver("receiver-small", received);

        SourceRef<ByteString> chunks = WeightStreams.source(weights, 7, checksum)
                .runWith(StreamRefs.sourceRef(), sender);
        WeightOffer offer = new WeightOffer(12, checksum, chunks);
        remoteReceiver.tell(offer);

        assertInstanceOf(JacksonCborSerializer.class,
                SerializationExtension.get(sender).findSerializerFor(offer));
        assertNotEquals(sender.address(), receiver.address());
        assertEquals(weights, received.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    }

    @Test
    void receiverRejectsWrongVersionOverStreamRef() throws Exception {
        PolicyWeights weights = TestWeights.randomPolicy(3, 6);
        long checksum = WeightChecksum.of(weights);
        CompletableFuture<PolicyWeights> received = new CompletableFuture<>();
        ActorRef<WeightOffer> remoteReceiver = remoteReceiver("receiver-wrong", received);

        SourceRef<ByteString> chunks = WeightStreams.source(weights, 4096, checksum)
                .runWith(StreamRefs.sourceRef(), sender);
        remoteReceiver.tell(new WeightOffer(4, checksum, chunks));

        ExecutionException error = assertThrows(ExecutionException.class,
                () -> received.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertInstanceOf(WeightTransferException.class, error.getCause());
        assertTrue(error.getCause().getMessage().contains("expected 4 but the header declares 3"),
                error.getCause().getMessage());
    }

    @Test
    void measurementStreamsDefaultChunks() throws Exception {
        // 3 MB of floats: a dozen default-size chunks, each above Artery's default frame limit.
        Random random = new Random(11);
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
        tensors.put("model.embed_tokens.weight", TestWeights.random(random, 1000, 700));
        tensors.put("model.norm.weight", TestWeights.random(random, 700));
        PolicyWeights weights = new PolicyWeights(1, tensors);

        WeightSyncMeasurement.Result result = WeightSyncMeasurement.measure(
                weights, WeightStreams.DEFAULT_CHUNK_BYTES, TIMEOUT);

        assertEquals(new WeightEncoder(weights, 1).totalBytes(), result.bytes());
        assertTrue(result.bytes() > 4L * 700_700, "bytes " + result.bytes());
        assertTrue(result.seconds() > 0, "seconds " + result.seconds());
        assertTrue(result.megabytesPerSecond() > 0, "MB/s " + result.megabytesPerSecond());
    }

    /**
     * Spawns a receiver on the receiver system and returns a reference to it resolved on the
     * sender system, so messages to it go through Artery and serialization.
     */
    private static ActorRef<WeightOffer> remoteReceiver(String name,
            CompletableFuture<PolicyWeights> received) {
        Behavior<WeightOffer> behavior = Behaviors.setup(context -> Behaviors
                .receive(WeightOffer.class)
                .onMessage(WeightOffer.class, offer -> {
                    offer.chunks().getSource()
                            .runWith(WeightStreams.sink(offer.version(), offer.checksum()),
                                    context.getSystem())
                            .whenComplete((weights, error) -> {
                                if (error != null) {
                                    received.completeExceptionally(error);
                                } else {
                                    received.complete(weights);
                                }
                            });
                    return Behaviors.same();
                })
                .build());
        ActorRef<WeightOffer> local = receiver.systemActorOf(behavior, name, Props.empty());
        String path = ActorRefResolver.get(receiver).toSerializationFormat(local);
        return ActorRefResolver.get(sender).resolveActorRef(path);
    }
}
