package dev.treepo.cluster.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.cluster.config.Settings;
import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.policy.WeightDelivery;
import dev.treepo.rollout.InferenceNode;
import dev.treepo.rollout.TreeRoot;
import dev.treepo.rollout.WireMessage;
import dev.treepo.tree.FinishReason;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeConfig;
import dev.treepo.tree.TreeStats;
import dev.treepo.worker.DecodeWorker;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.SerializationTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.jackson.JacksonCborSerializer;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import scala.util.Try;

/**
 * Every {@link WireMessage} round-trips through Jackson CBOR, the serializer a cluster node binds
 * it to, and its ActorRefs and StreamRefs resolve back to live references. A message outside
 * WireMessage has no serializer, because Java serialization is off.
 */
class WireMessageSerializationTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** A Serializable record outside WireMessage: Java serialization would take it if it were on. */
    record JavaSerializableMessage(String text) implements Serializable {}

    private static ActorTestKit testKit;
    private static SerializationTestKit serializationTestKit;
    private static Serialization serialization;

    @BeforeAll
    static void startNode() {
        // Port 0 binds any free port on loopback. The node never joins a cluster.
        Settings.Cluster cluster = new Settings.Cluster("127.0.0.1", 0, List.of(), 1, 1 << 20, 1 << 18, 10);
        testKit = ActorTestKit.create(ClusterNode.SYSTEM_NAME, ClusterNode.config(cluster, Set.of(ClusterNode.INFERENCE)));
        serializationTestKit = new SerializationTestKit(testKit.system());
        serialization = SerializationExtension.get(testKit.system());
    }

    @AfterAll
    static void stopNode() {
        testKit.shutdownTestKit();
    }

    /** Serializes {@code message} with the serializer bound to its class and returns the copy read back. */
    private static <M> M roundTrip(M message) {
        assertInstanceOf(JacksonCborSerializer.class, serialization.findSerializerFor(message),
                "serializer of " + message.getClass().getName());
        M copy = serializationTestKit.verifySerialization(message, false);
        assertNotNull(copy, "copy of " + message.getClass().getName());
        return copy;
    }

    @Test
    void helloRoundTrips() {
        TestProbe<InferenceNode.NodeInfo> replyTo = testKit.createTestProbe();
        InferenceNode.Hello hello = new InferenceNode.Hello(WireMessage.VERSION, replyTo.ref());

        assertEquals(hello, roundTrip(hello));
    }

    @Test
    void nodeInfoRoundTrips() {
        TestProbe<InferenceNode.Command> node = testKit.createTestProbe();
        InferenceNode.NodeInfo info = new InferenceNode.NodeInfo(
                WireMessage.VERSION, "node-7", List.of("gpu-0", "gpu-1"), 6, node.ref());

        InferenceNode.NodeInfo copy = roundTrip(info);

        assertEquals(info.wireVersion(), copy.wireVersion());
        assertEquals("node-7", copy.nodeId());
        assertEquals(List.of("gpu-0", "gpu-1"), copy.workerIds());
        assertEquals(6, copy.capacity());
        assertEquals(node.ref(), copy.node());
    }

    @Test
    void growTreeRoundTrips() {
        TestProbe<InferenceNode.TreeOutcome> replyTo = testKit.createTestProbe();
        TreeConfig tree = new TreeConfig(TreeConfig.Mode.TREE, 16, 64, 7, 2, 3, TreeConfig.Allocation.LOGPROB, 0.5,
                300, TreeConfig.FallbackSource.ANY, TreeConfig.FallbackCut.MIN_LOGPROB, 32, 20, 4);
        SamplingParams sampling = new SamplingParams(0.7, 0.95, 40);
        InferenceNode.GrowTree grow = new InferenceNode.GrowTree(
                123_456_789_012L, 5, new int[] {151644, 872, 198, 0, -1}, tree, sampling, -42L, replyTo.ref());

        InferenceNode.GrowTree copy = roundTrip(grow);

        assertEquals(grow.treeId(), copy.treeId());
        assertEquals(5, copy.promptIndex());
        assertArrayEquals(grow.promptTokens(), copy.promptTokens());
        assertEquals(tree, copy.tree());
        assertEquals(sampling, copy.sampling());
        assertEquals(-42L, copy.rolloutSeed());
        assertEquals(replyTo.ref(), copy.replyTo());
    }

    @Test
    void treeGrownRoundTrips() {
        Leaf first = new Leaf(3, 5, new int[] {0, 2, 5}, new int[] {10, 11, 12, 13, 14},
                new float[] {-0.5f, -1.25f, 0f, -2.0e-7f, -17.125f}, new float[] {1, 1, 0, 1, 1},
                FinishReason.BOXED_ANSWER, new int[] {2, 1, 2});
        Leaf second = new Leaf(3, 6, new int[] {0, 3, 6}, new int[] {10, 11, 20},
                new float[] {-0.5f, -1.25f, -3.75f}, new float[] {1, 1, 1},
                FinishReason.MAX_DEPTH, new int[] {2, 0, 1});
        TreeStats stats = new TreeStats(9, 41, 1, 3, 8);
        TreeRoot.TreeFinished tree = new TreeRoot.TreeFinished(
                77, 3, List.of(first, second), stats, 1234, 4, Set.of("node-1/gpu-0", "node-1/gpu-1"),
                java.util.Map.of(0, 4L, 3, 5L, 6, 5L));
        InferenceNode.TreeGrown grown = new InferenceNode.TreeGrown(77, "node-1", tree);

        InferenceNode.TreeGrown copy = roundTrip(grown);

        assertEquals(77, copy.treeId());
        assertEquals("node-1", copy.nodeId());
        TreeRoot.TreeFinished treeCopy = copy.tree();
        assertEquals(77, treeCopy.treeId());
        assertEquals(3, treeCopy.promptIndex());
        assertEquals(stats, treeCopy.stats());
        assertEquals(1234, treeCopy.tokensForwarded());
        assertEquals(java.util.Map.of(0, 4L, 3, 5L, 6, 5L), treeCopy.nodeVersions());
        assertArrayEquals(new long[] {4, 5, 5}, treeCopy.segmentVersions(second));
        assertEquals(4, treeCopy.oldestPolicyVersion());
        assertEquals(Set.of("node-1/gpu-0", "node-1/gpu-1"), treeCopy.workers());
        assertEquals(2, treeCopy.leaves().size());
        assertSameLeaf(first, treeCopy.leaves().get(0));
        assertSameLeaf(second, treeCopy.leaves().get(1));
    }

    private static void assertSameLeaf(Leaf expected, Leaf actual) {
        String leaf = "leaf of node " + expected.nodeId();
        assertEquals(expected.promptIndex(), actual.promptIndex(), "prompt index of " + leaf);
        assertEquals(expected.nodeId(), actual.nodeId(), "node id of " + leaf);
        assertArrayEquals(expected.nodePath(), actual.nodePath(), "node path of " + leaf);
        assertArrayEquals(expected.responseTokens(), actual.responseTokens(), "response tokens of " + leaf);
        assertArrayEquals(expected.logprobs(), actual.logprobs(), "logprobs of " + leaf);
        assertArrayEquals(expected.lossMask(), actual.lossMask(), "loss mask of " + leaf);
        assertEquals(expected.finishReason(), actual.finishReason(), "finish reason of " + leaf);
        assertArrayEquals(expected.segmentLengths(), actual.segmentLengths(), "segment lengths of " + leaf);
    }

    @Test
    void treeNotGrownRoundTrips() {
        InferenceNode.TreeNotGrown failed = new InferenceNode.TreeNotGrown(78, "node-2", "KV cache full on gpu-0");

        assertEquals(failed, roundTrip(failed));
    }

    @Test
    void loadPolicyWithStreamRefRoundTrips() throws Exception {
        TestProbe<InferenceNode.PolicyLoaded> replyTo = testKit.createTestProbe();
        SourceRef<ByteString> stream = Source.single(ByteString.fromString("weight chunk"))
                .runWith(StreamRefs.sourceRef(), testKit.system());
        WeightDelivery delivery = new WeightDelivery(9, 0xCAFEF00DL, 12, null, stream);
        InferenceNode.LoadPolicy load = new InferenceNode.LoadPolicy(delivery, replyTo.ref());

        InferenceNode.LoadPolicy copy = roundTrip(load);

        assertEquals(replyTo.ref(), copy.replyTo());
        WeightDelivery deliveryCopy = copy.delivery();
        assertEquals(9, deliveryCopy.version());
        assertEquals(0xCAFEF00DL, deliveryCopy.checksum());
        assertEquals(12, deliveryCopy.bytes());
        assertNull(deliveryCopy.inMemory());
        assertNotNull(deliveryCopy.stream());
        // The copy is a working reference: pulling it yields the chunk the origin offers.
        ByteString chunk = deliveryCopy.stream().getSource()
                .runWith(Sink.head(), testKit.system())
                .toCompletableFuture()
                .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertEquals("weight chunk", chunk.utf8String());
    }

    @Test
    void policyLoadedRoundTrips() {
        InferenceNode.PolicyLoaded loaded = new InferenceNode.PolicyLoaded("node-3", 9, 0xFFFFFFFFL, 2, null);
        InferenceNode.PolicyLoaded failed = new InferenceNode.PolicyLoaded("node-3", 10, 0, 0, "checksum mismatch");

        assertEquals(loaded, roundTrip(loaded));
        assertEquals(failed, roundTrip(failed));
    }

    @Test
    void nodeStatsRequestAndReplyRoundTrip() {
        TestProbe<InferenceNode.NodeStats> replyTo = testKit.createTestProbe();
        InferenceNode.GetNodeStats request = new InferenceNode.GetNodeStats(replyTo.ref());
        InferenceNode.NodeStats stats = new InferenceNode.NodeStats("node-4", 1_000_000_000_000L, 42, -1);

        assertEquals(request, roundTrip(request));
        assertEquals(stats, roundTrip(stats));
    }

    @Test
    void shutdownRoundTrips() {
        InferenceNode.Shutdown shutdown = new InferenceNode.Shutdown("run finished");

        assertEquals(shutdown, roundTrip(shutdown));
    }

    @Test
    void messageOutsideWireMessageIsRejected() {
        DecodeWorker.WeightsLoaded local = new DecodeWorker.WeightsLoaded("gpu-0", 3);
        JavaSerializableMessage javaSerializable = new JavaSerializableMessage("only Java serialization fits");

        Try<byte[]> localBytes = serialization.serialize(local);
        Try<byte[]> javaBytes = serialization.serialize(javaSerializable);

        assertTrue(localBytes.isFailure(), "a record outside WireMessage must have no serializer");
        assertTrue(javaBytes.isFailure(), "Java serialization must be off");
        assertTrue(localBytes.failed().get().getMessage().contains(DecodeWorker.WeightsLoaded.class.getName()),
                localBytes.failed().get().getMessage());
    }
}
