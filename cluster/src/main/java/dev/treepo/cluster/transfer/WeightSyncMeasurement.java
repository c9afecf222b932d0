package dev.treepo.cluster.transfer;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

import dev.treepo.policy.PolicyWeights;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.StreamRefResolver;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures one weight sync between two ActorSystems in one JVM. The sender offers the encoded
 * weights as a SourceRef and the receiver resolves it and decodes the chunks. Every chunk crosses
 * Artery over TCP on 127.0.0.1, as it would between cluster nodes.
 *
 * <p>Memory: the sender reads the given tensors in place and allocates O(chunk) extra bytes, and the
 * receiver allocates one float array per tensor. So the JVM needs about twice the model's float32
 * size plus the in-flight chunks and G1's slack for large arrays. A 494M-float model (Qwen2.5-0.5B
 * size) ran with -Xmx5g but not with -Xmx4300m on a 2-core x86_64 machine. The received copy is
 * dropped before returning.
 */
public final class WeightSyncMeasurement {

    private static final Logger log = LoggerFactory.getLogger(WeightSyncMeasurement.class);

    /**
     * One transfer.
     *
     * @param bytes length of the encoded stream (header and float32 data)
     * @param chunkBytes chunk size used
     * @param checksumSeconds sender-side checksum pass before the transfer
     * @param seconds from the receiver materializing the stream to the decoded weights
     */
    public record Result(long bytes, int chunkBytes, double checksumSeconds, double seconds) {

        /** Throughput in MB/s (10^6 bytes) over {@link #seconds}. */
        public double megabytesPerSecond() {
            return bytes / 1e6 / seconds;
        }
    }

    private WeightSyncMeasurement() {}

    /**
     * Returns settings for weight streams over Artery on loopback. They select the remote provider
     * on 127.0.0.1 with a free port, remote watch without a cluster, Java serialization off, SLF4J
     * logging, and a 512 KiB frame so that chunks up to about 511 KiB fit. {@link
     * WeightStreams#DEFAULT_CHUNK_BYTES} does not fit Artery's default 256 KiB frame. Add the
     * application's serialization bindings on top.
     */
    public static Config loopbackConfig() {
        return ConfigFactory.parseString("""
                pekko {
                  loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
                  logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
                  loglevel = WARNING
                  actor {
                    provider = remote
                    allow-java-serialization = off
                  }
                  remote {
                    warn-about-direct-use = off
                    # StreamRefs watch the peer's stage actor to notice a dead peer. Outside a
                    # cluster Pekko drops remote watch unless this is on.
                    use-unsafe-remote-features-outside-cluster = on
                    artery {
                      transport = tcp
                      canonical.hostname = "127.0.0.1"
                      canonical.port = 0
                      advanced.maximum-frame-size = 512 KiB
                    }
                  }
                }
                """);
    }

    /**
     * Streams {@code weights} from a fresh sender system to a fresh receiver system and times it.
     * Both systems are terminated before this returns.
     *
     * @throws WeightTransferException if the receiver rejects the stream
     * @throws TimeoutException if the transfer takes longer than {@code timeout}
     */
    public static Result measure(PolicyWeights weights, int chunkBytes, Duration timeout)
            throws WeightTransferException, TimeoutException, InterruptedException {
        Config config = loopbackConfig().withFallback(ConfigFactory.load());
        ActorSystem<Void> sender = ActorSystem.create(Behaviors.empty(), "weight-sender", config);
        ActorSystem<Void> receiver = null;
        try {
            receiver = ActorSystem.create(Behaviors.empty(), "weight-receiver", config);

            long checksumStart = System.nanoTime();
            long checksum = WeightChecksum.of(weights);
            double checksumSeconds = (System.nanoTime() - checksumStart) / 1e9;
            long bytes = new WeightEncoder(weights, chunkBytes, checksum).totalBytes();
            log.info("Weight sync of policy version {}: {} bytes in {}-byte chunks, checksum {}",
                    weights.version(), bytes, chunkBytes, WeightChecksum.hex(checksum));

            // The string form is what a message carrying the SourceRef serializes to, so the
            // receiver's copy points at the sender's stage actor through Artery.
            SourceRef<ByteString> offered = WeightStreams.source(weights, chunkBytes, checksum)
                    .runWith(StreamRefs.sourceRef(), sender);
            String serialized = StreamRefResolver.get(sender).toSerializationFormat(offered);
            SourceRef<ByteString> remote =
                    StreamRefResolver.get(receiver).resolveSourceRef(serialized);

            long start = System.nanoTime();
            CompletableFuture<PolicyWeights> received = remote.getSource()
                    .runWith(WeightStreams.sink(weights.version(), checksum), receiver)
                    .toCompletableFuture();
            PolicyWeights copy = await(received, timeout, weights.version());
            double seconds = (System.nanoTime() - start) / 1e9;
            if (copy.parameterCount() != weights.parameterCount()) {
                throw new IllegalStateException("Weight sync of policy version "
                        + weights.version() + " returned " + copy.parameterCount()
                        + " parameters instead of " + weights.parameterCount());
            }

            Result result = new Result(bytes, chunkBytes, checksumSeconds, seconds);
            log.info("Weight sync of policy version {}: {} bytes in {} s, {} MB/s",
                    weights.version(), bytes, String.format("%.3f", seconds),
                    String.format("%.1f", result.megabytesPerSecond()));
            return result;
        } finally {
            terminate(sender, timeout);
            if (receiver != null) {
                terminate(receiver, timeout);
            }
        }
    }

    private static PolicyWeights await(CompletableFuture<PolicyWeights> received,
            Duration timeout, long version)
            throws WeightTransferException, TimeoutException, InterruptedException {
        try {
            return received.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutException("Weight sync of policy version " + version
                    + " timed out after " + timeout + ". Raise the timeout for large models.");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WeightTransferException transfer) {
                throw transfer;
            }
            throw new WeightTransferException("Weight sync of policy version " + version
                    + " failed: " + e.getCause(), e.getCause());
        }
    }

    private static void terminate(ActorSystem<?> system, Duration timeout)
            throws InterruptedException {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            log.warn("ActorSystem {} did not terminate cleanly within {}", system.name(), timeout,
                    e);
        }
    }
}
