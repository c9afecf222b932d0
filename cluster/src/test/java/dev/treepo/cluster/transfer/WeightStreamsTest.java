package dev.treepo.cluster.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import dev.treepo.policy.PolicyWeights;

import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The stream ends within one ActorSystem, without remoting. */
class WeightStreamsTest {

    private static final PolicyWeights WEIGHTS = TestWeights.randomPolicy(8, 77);
    private static final long CHECKSUM = WeightChecksum.of(WEIGHTS);

    private static ActorSystem<Void> system;

    @BeforeAll
    static void startSystem() {
        // A local provider, so that remoting settings on the classpath cannot open ports here.
        Config config = ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load());
        system = ActorSystem.create(Behaviors.empty(), "weight-streams-test", config);
    }

    @AfterAll
    static void stopSystem() {
        system.terminate();
    }

    @Test
    void sourceToSinkRoundTrip() throws Exception {
        PolicyWeights received = WeightStreams.source(WEIGHTS, 7)
                .runWith(WeightStreams.sink(8, CHECKSUM), system)
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(WEIGHTS, received);
    }

    @Test
    void sourceEmitsBoundedChunks() throws Exception {
        List<ByteString> chunks = WeightStreams.source(WEIGHTS, 100)
                .runWith(Sink.seq(), system)
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        long total = new WeightEncoder(WEIGHTS, 100).totalBytes();
        assertEquals((total + 99) / 100, chunks.size());
        assertTrue(chunks.stream().allMatch(chunk -> chunk.size() <= 100));
    }

    @Test
    void sinkIsReusableAcrossMaterializations() throws Exception {
        Source<ByteString, ?> source = WeightStreams.source(WEIGHTS, 4096, CHECKSUM);
        var sink = WeightStreams.sink(8, CHECKSUM);

        PolicyWeights first = source.runWith(sink, system)
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        PolicyWeights second = source.runWith(sink, system)
                .toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(WEIGHTS, first);
        assertEquals(WEIGHTS, second);
    }

    @Test
    void sinkFailsOnWrongVersion() {
        CompletionStage<PolicyWeights> result = WeightStreams.source(WEIGHTS, 4096)
                .runWith(WeightStreams.sink(9, CHECKSUM), system);

        Throwable cause = failureOf(result);

        assertInstanceOf(WeightTransferException.class, cause);
        assertTrue(cause.getMessage().contains("expected 9 but the header declares 8"),
                cause.getMessage());
    }

    @Test
    void sinkFailsOnTruncatedStream() {
        CompletionStage<PolicyWeights> result = WeightStreams.source(WEIGHTS, 64)
                .take(3)
                .runWith(WeightStreams.sink(8, CHECKSUM), system);

        Throwable cause = failureOf(result);

        assertInstanceOf(WeightTransferException.class, cause);
        assertTrue(cause.getMessage().startsWith("Truncated weight stream for policy version 8"),
                cause.getMessage());
    }

    @Test
    void sinkPassesUpstreamFailureThrough() {
        IllegalStateException upstream = new IllegalStateException("sender stopped");
        CompletionStage<PolicyWeights> result = WeightStreams.source(WEIGHTS, 64)
                .take(2)
                .concat(Source.failed(upstream))
                .runWith(WeightStreams.sink(8, CHECKSUM), system);

        assertEquals(upstream, failureOf(result));
    }

    @Test
    void sourceRejectsNonPositiveChunk() {
        assertThrows(IllegalArgumentException.class, () -> WeightStreams.source(WEIGHTS, 0));
    }

    private static Throwable failureOf(CompletionStage<PolicyWeights> result) {
        ExecutionException error = assertThrows(ExecutionException.class,
                () -> result.toCompletableFuture().get(10, TimeUnit.SECONDS));
        return error.getCause();
    }
}
