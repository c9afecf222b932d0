package dev.treepo.rollout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.policy.WeightTransport;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.rollout.RolloutRouter.NodeTally;
import dev.treepo.rollout.RolloutRouter.RoutingStats;
import dev.treepo.rollout.RolloutRouter.WeightsPublished;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeConfig;
import dev.treepo.worker.DecodeWorker;
import dev.treepo.worker.TinyModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The router and its inference nodes in one JVM, with weights in memory and the tiny random model
 * in every worker. Each test has its own ActorSystem, so no test's router greets the nodes that
 * another test registered with the Receptionist.
 */
class RolloutRouterTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Tokenizer TOKENIZER = TinyModel.tokenizer();
    private static final PolicyWeights WEIGHTS = TinyModel.policy(1, 5);
    private static final long CHECKSUM = WEIGHTS.checksum();
    /** Newline is a frequent token of the random model, so paths end early and fallback regrows them. */
    private static final int EOS_ID = 3;
    private static final int WIDTH = 4;
    private static final TreeConfig TREE = new TreeConfig(TreeConfig.Mode.TREE, WIDTH, 4, 3, 1, 2,
            TreeConfig.Allocation.EVEN, 1.0, 0, TreeConfig.FallbackSource.CLEAN_FIRST,
            TreeConfig.FallbackCut.RANDOM_BLOCK, 0, 32, 8);
    private static final SamplingParams SAMPLING = new SamplingParams(1.0, 1.0, 0);
    private static final long SEED = 42;
    private static final int PROMPTS = 8;

    private ActorTestKit testKit;

    @BeforeEach
    void startSystem() {
        testKit = ActorTestKit.create();
    }

    @AfterEach
    void stopSystem() {
        testKit.shutdownTestKit();
    }

    @Test
    void twoNodesLoadWeightsAndShareTrees() {
        ActorRef<RolloutRouter.Command> router = testKit.spawn(RolloutRouter.create(2, WeightTransport.inMemory()));
        spawnNode("node-a", realWorker("worker-a"), 2);
        awaitJoinedNodes(router, 1);

        TestProbe<WeightsPublished> published = testKit.createTestProbe();
        router.tell(new RolloutRouter.PublishWeights(WEIGHTS, CHECKSUM, published.ref()));
        published.expectNoMessage(Duration.ofMillis(500));

        spawnNode("node-b", realWorker("worker-b"), 2);
        WeightsPublished answer = published.receiveMessage(TIMEOUT);
        assertNull(answer.error());
        assertEquals(1, answer.version());
        assertEquals(CHECKSUM, answer.checksum());
        assertEquals(2, answer.nodes().size(), answer.nodes().toString());
        Set<String> loadedBy = new HashSet<>();
        for (InferenceNode.PolicyLoaded loaded : answer.nodes()) {
            assertNull(loaded.error(), "error of node " + loaded.nodeId());
            assertEquals(1, loaded.version(), "version of node " + loaded.nodeId());
            assertEquals(CHECKSUM, loaded.checksum(), "checksum of node " + loaded.nodeId());
            assertEquals(1, loaded.workers(), "workers of node " + loaded.nodeId());
            loadedBy.add(loaded.nodeId());
        }
        assertEquals(Set.of("node-a", "node-b"), loadedBy);

        RolloutFinished finished = runRollout(router, 1);
        assertCompleteTrees(finished);

        RoutingStats stats = routingStats(router);
        assertEquals(0, stats.treesRerun());
        Map<String, NodeTally> tallies = talliesById(stats);
        assertEquals(Set.of("node-a", "node-b"), tallies.keySet());
        long treesOverNodes = 0;
        for (NodeTally tally : tallies.values()) {
            assertTrue(tally.alive(), "alive " + tally);
            assertEquals(1, tally.policyVersion(), "policy version " + tally);
            assertTrue(tally.trees() > 0, "trees " + tally);
            assertTrue(tally.segments() > 0, "segments " + tally);
            treesOverNodes += tally.trees();
        }
        assertEquals(PROMPTS, treesOverNodes);
    }

    @Test
    void stoppedNodeTreesGrowAgainElsewhere() {
        // Node B's worker takes segments and never replies, so B's trees stay in flight until B
        // stops. The test can then count exactly the trees that must grow again on node A.
        ActorRef<RolloutRouter.Command> router = testKit.spawn(RolloutRouter.create(2, WeightTransport.inMemory()));
        TestProbe<DecodeWorker.DecodeSegment> stalledSegments = testKit.createTestProbe();
        spawnNode("node-a", realWorker("worker-a"), 1);
        ActorRef<InferenceNode.Command> nodeB = spawnNode("node-b", stalledWorker("worker-b", stalledSegments.ref()), 2);
        TestProbe<WeightsPublished> published = testKit.createTestProbe();
        router.tell(new RolloutRouter.PublishWeights(WEIGHTS, CHECKSUM, published.ref()));
        assertNull(published.receiveMessage(TIMEOUT).error());

        TestProbe<RolloutFinished> rolloutProbe = testKit.createTestProbe();
        router.tell(new RolloutManager.RunRollout(7, prompts(), TREE, new BoxedAnswerScenario(TREE), SAMPLING, SEED,
                rolloutProbe.ref()));
        // Node A gets one tree and node B two, whichever node joined first. Each tree's first
        // segment reaching B's worker shows that tree is in flight there.
        Set<Long> treesOnB = new HashSet<>();
        while (treesOnB.size() < 2) {
            treesOnB.add(stalledSegments.receiveMessage(TIMEOUT).treeId());
        }
        nodeB.tell(new InferenceNode.Shutdown("test stops node B with trees in flight"));

        RolloutFinished finished = rolloutProbe.receiveMessage(TIMEOUT);
        assertCompleteTrees(finished);
        RoutingStats stats = routingStats(router);
        assertEquals(2, stats.treesRerun());
        Map<String, NodeTally> tallies = talliesById(stats);
        assertFalse(tallies.get("node-b").alive(), "node B after shutdown: " + tallies.get("node-b"));
        assertEquals(0, tallies.get("node-b").trees());
        assertTrue(tallies.get("node-a").alive(), "node A: " + tallies.get("node-a"));
        assertEquals(PROMPTS, tallies.get("node-a").trees());

        // The trees grown again use the seeds of their prompts, so they equal a local rollout.
        RolloutFinished local = runLocally();
        assertSameLeaves(local, finished, false);
    }

    @Test
    void nodeOfOtherWireVersionIsRejected() {
        ActorRef<RolloutRouter.Command> router = testKit.spawn(RolloutRouter.create(1, WeightTransport.inMemory()));
        TestProbe<InferenceNode.Command> fakeNode = testKit.createTestProbe();
        int foreignVersion = 999;

        LoggingTestKit.error("it speaks wire version " + foreignVersion + ", this trainer " + WireMessage.VERSION)
                .withLoggerName(RolloutRouter.class.getName())
                .expect(testKit.system(), () -> {
                    testKit.system().receptionist().tell(Receptionist.register(InferenceNode.KEY, fakeNode.ref()));
                    InferenceNode.Hello hello = fakeNode.expectMessageClass(InferenceNode.Hello.class, TIMEOUT);
                    assertEquals(WireMessage.VERSION, hello.wireVersion());
                    hello.replyTo().tell(new InferenceNode.NodeInfo(foreignVersion, "fake-node", List.of("w0"), 2,
                            fakeNode.ref()));
                    return null;
                });

        TestProbe<WeightsPublished> published = testKit.createTestProbe();
        TestProbe<RolloutFinished> rolloutProbe = testKit.createTestProbe();
        router.tell(new RolloutRouter.PublishWeights(WEIGHTS, CHECKSUM, published.ref()));
        router.tell(new RolloutManager.RunRollout(3, prompts(), TREE, new BoxedAnswerScenario(TREE), SAMPLING, SEED,
                rolloutProbe.ref()));
        // No LoadPolicy, no GrowTree and no second Hello reach the rejected node.
        fakeNode.expectNoMessage(Duration.ofSeconds(1));
        published.expectNoMessage(Duration.ZERO);
        rolloutProbe.expectNoMessage(Duration.ZERO);
        assertTrue(routingStats(router).nodes().isEmpty(), "a rejected node must not be counted");
    }

    @Test
    void routedRolloutEqualsLocalRollout() {
        ActorRef<RolloutRouter.Command> router = testKit.spawn(RolloutRouter.create(1, WeightTransport.inMemory()));
        spawnNode("node-a", realWorker("worker-a"), 1);
        TestProbe<WeightsPublished> published = testKit.createTestProbe();
        router.tell(new RolloutRouter.PublishWeights(WEIGHTS, CHECKSUM, published.ref()));
        assertNull(published.receiveMessage(TIMEOUT).error());

        RolloutFinished routed = runRollout(router, 1);
        RolloutFinished local = runLocally();

        assertCompleteTrees(routed);
        assertCompleteTrees(local);
        assertSameLeaves(local, routed, true);
    }

    // ---- helpers ----

    private ActorRef<DecodeWorker.Command> realWorker(String workerId) {
        return testKit.spawn(DecodeWorker.create(workerId, TinyModel.engine(512), TOKENIZER.vocabSize(), EOS_ID, 128));
    }

    /** A worker that loads weights at once and passes every segment request to {@code segments}, unanswered. */
    private ActorRef<DecodeWorker.Command> stalledWorker(String workerId, ActorRef<DecodeWorker.DecodeSegment> segments) {
        Behavior<DecodeWorker.Command> behavior = Behaviors.receive(DecodeWorker.Command.class)
                .onMessage(DecodeWorker.LoadWeights.class, load -> {
                    load.replyTo().tell(new DecodeWorker.WeightsLoaded(workerId, load.weights().version()));
                    return Behaviors.same();
                })
                .onMessage(DecodeWorker.DecodeSegment.class, segment -> {
                    segments.tell(segment);
                    return Behaviors.same();
                })
                .onAnyMessage(message -> Behaviors.same())
                .build();
        return testKit.spawn(behavior, workerId);
    }

    private ActorRef<InferenceNode.Command> spawnNode(String nodeId, ActorRef<DecodeWorker.Command> worker, int maxTrees) {
        return testKit.spawn(InferenceNode.create(nodeId, List.of(worker), List.of(nodeId + "-w0"), TOKENIZER, maxTrees,
                BoxedAnswerScenario::new, WeightTransport.inMemory(), false, null), nodeId);
    }

    private void awaitJoinedNodes(ActorRef<RolloutRouter.Command> router, int count) {
        TestProbe<RoutingStats> probe = testKit.createTestProbe();
        probe.awaitAssert(TIMEOUT, () -> {
            assertEquals(count, routingStats(router).nodes().size());
            return null;
        });
    }

    private RoutingStats routingStats(ActorRef<RolloutRouter.Command> router) {
        TestProbe<RoutingStats> probe = testKit.createTestProbe();
        router.tell(new RolloutRouter.GetRoutingStats(probe.ref()));
        return probe.receiveMessage(TIMEOUT);
    }

    private static Map<String, NodeTally> talliesById(RoutingStats stats) {
        Map<String, NodeTally> tallies = new HashMap<>();
        for (NodeTally tally : stats.nodes()) {
            tallies.put(tally.nodeId(), tally);
        }
        return tallies;
    }

    private static List<PromptJob> prompts() {
        List<PromptJob> jobs = new ArrayList<>();
        for (int i = 0; i < PROMPTS; i++) {
            jobs.add(new PromptJob(i, TOKENIZER.encode("Q: " + (i + 2) + "+" + (i * 3) + "\nA: ")));
        }
        return jobs;
    }

    private RolloutFinished runRollout(ActorRef<? super RolloutManager.RunRollout> target, long rolloutId) {
        TestProbe<RolloutFinished> probe = testKit.createTestProbe();
        target.tell(new RolloutManager.RunRollout(rolloutId, prompts(), TREE, new BoxedAnswerScenario(TREE), SAMPLING,
                SEED, probe.ref()));
        return probe.receiveMessage(TIMEOUT);
    }

    /**
     * Runs the rollout on a RolloutManager with its own worker, one tree at a time like a node of
     * capacity 1, so that every decode batch contains the segments of one tree as on the node.
     */
    private RolloutFinished runLocally() {
        ActorRef<DecodeWorker.Command> worker = realWorker("worker-local");
        TestProbe<DecodeWorker.WeightsLoaded> loaded = testKit.createTestProbe();
        worker.tell(new DecodeWorker.LoadWeights(WEIGHTS, loaded.ref()));
        loaded.receiveMessage(TIMEOUT);
        ActorRef<RolloutManager.Command> manager = testKit.spawn(RolloutManager.create(List.of(worker), TOKENIZER, 1));
        return runRollout(manager, 1);
    }

    private static void assertCompleteTrees(RolloutFinished finished) {
        assertTrue(finished.failures().isEmpty(), finished.failures().toString());
        assertEquals(PROMPTS, finished.trees().size());
        for (int i = 0; i < PROMPTS; i++) {
            TreeRoot.TreeFinished tree = finished.trees().get(i);
            assertEquals(i, tree.promptIndex(), "prompt index of tree " + i);
            assertEquals(WIDTH, tree.leaves().size(), "leaves of prompt " + i);
            for (Leaf leaf : tree.leaves()) {
                assertEquals(i, leaf.promptIndex(), "prompt index of a leaf of tree " + i);
            }
            assertEquals(1, tree.oldestPolicyVersion(), "policy version of tree " + i);
        }
    }

    /**
     * Asserts that both rollouts grew the same leaves, in the same order, for every prompt. With
     * {@code withLogprobs} it also compares the logprobs, to 1e-6.
     */
    private static void assertSameLeaves(RolloutFinished expected, RolloutFinished actual, boolean withLogprobs) {
        assertEquals(expected.trees().size(), actual.trees().size());
        for (int i = 0; i < expected.trees().size(); i++) {
            List<Leaf> expectedLeaves = expected.trees().get(i).leaves();
            List<Leaf> actualLeaves = actual.trees().get(i).leaves();
            assertEquals(expectedLeaves.size(), actualLeaves.size(), "leaves of prompt " + i);
            for (int j = 0; j < expectedLeaves.size(); j++) {
                Leaf want = expectedLeaves.get(j);
                Leaf got = actualLeaves.get(j);
                String where = "prompt " + i + ", leaf " + j;
                assertArrayEquals(want.responseTokens(), got.responseTokens(), "response tokens of " + where);
                assertArrayEquals(want.nodePath(), got.nodePath(), "node path of " + where);
                assertArrayEquals(want.segmentLengths(), got.segmentLengths(), "segment lengths of " + where);
                assertEquals(want.finishReason(), got.finishReason(), "finish reason of " + where);
                if (withLogprobs) {
                    assertArrayEquals(want.logprobs(), got.logprobs(), 1e-6f, "logprobs of " + where);
                }
            }
        }
    }
}
