package dev.treepo.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.worker.DecodeWorker.DecodeSegment;
import dev.treepo.worker.DecodeWorker.SegmentDecoded;
import dev.treepo.worker.DecodeWorker.SegmentReply;
import dev.treepo.worker.DecodeWorker.WorkerStats;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class DecodeWorkerTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final SamplingParams SAMPLING = new SamplingParams(1.0, 1.0, 0);

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private static ActorRef<DecodeWorker.Command> loadedWorker(String id, int blocks) {
        ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                DecodeWorker.create(id, TinyModel.engine(blocks), 99, -1, 64));
        TestProbe<DecodeWorker.WeightsLoaded> loaded = TEST_KIT.createTestProbe();
        worker.tell(new DecodeWorker.LoadWeights(TinyModel.policy(1, 3), loaded.ref()));
        assertEquals(1, loaded.expectMessageClass(DecodeWorker.WeightsLoaded.class, TIMEOUT).version());
        return worker;
    }

    @Test
    void segmentsOfSeveralTreesShareDecodeSteps() {
        ActorRef<DecodeWorker.Command> worker = loadedWorker("batching", 256);
        TestProbe<SegmentReply> replies = TEST_KIT.createTestProbe();
        int trees = 4;
        int tokens = 12;
        for (int tree = 0; tree < trees; tree++) {
            worker.tell(new DecodeSegment(tree, 0, -1, 0, new int[] {5, 6, 7}, tokens, SAMPLING, tree, replies.ref()));
        }
        for (int i = 0; i < trees; i++) {
            SegmentDecoded decoded = assertInstanceOf(SegmentDecoded.class, replies.receiveMessage(TIMEOUT));
            assertEquals(tokens, decoded.tokens().length);
            assertEquals(1, decoded.policyVersion());
        }
        TestProbe<WorkerStats> stats = TEST_KIT.createTestProbe();
        worker.tell(new DecodeWorker.GetStats(stats.ref()));
        WorkerStats result = stats.receiveMessage(TIMEOUT);
        assertEquals(trees, result.segmentsServed());
        // Each segment needs 12 forward passes. Batched together the four trees need 12 or a few more,
        // because a request that arrives during a step joins the next one, but never 48.
        assertTrue(result.decodeSteps() < 2 * tokens, "decode steps: " + result.decodeSteps());
        assertEquals(trees * (3 + tokens - 1), result.tokensForwarded());
    }

    @Test
    void childForksFromParentWithoutRecomputingIt() {
        ActorRef<DecodeWorker.Command> worker = loadedWorker("fork", 256);
        TestProbe<SegmentReply> replies = TEST_KIT.createTestProbe();
        int[] prompt = {10, 11, 12, 13, 14, 15, 16, 17, 18, 19};
        worker.tell(new DecodeSegment(7, 0, -1, 0, prompt, 4, SAMPLING, 1, replies.ref()));
        SegmentDecoded root = assertInstanceOf(SegmentDecoded.class, replies.receiveMessage(TIMEOUT));
        assertEquals(prompt.length + 3, root.tokensForwarded());

        int context = prompt.length + root.tokens().length;
        worker.tell(new DecodeSegment(7, 1, 0, context, new int[0], 4, SAMPLING, 2, replies.ref()));
        worker.tell(new DecodeSegment(7, 2, 0, context, new int[0], 4, SAMPLING, 3, replies.ref()));
        for (int i = 0; i < 2; i++) {
            SegmentDecoded child = assertInstanceOf(SegmentDecoded.class, replies.receiveMessage(TIMEOUT));
            // Only the parent's last sampled token and the child's own tokens run through the model.
            assertEquals(1 + 3, child.tokensForwarded());
        }
        worker.tell(new DecodeWorker.ReleaseTree(7));
        TestProbe<WorkerStats> stats = TEST_KIT.createTestProbe();
        worker.tell(new DecodeWorker.GetStats(stats.ref()));
        assertEquals(0, stats.receiveMessage(TIMEOUT).usedBlocks());
    }

    @Test
    void unknownParentIsRejected() {
        ActorRef<DecodeWorker.Command> worker = loadedWorker("unknown-parent", 64);
        TestProbe<SegmentReply> replies = TEST_KIT.createTestProbe();
        worker.tell(new DecodeSegment(1, 5, 3, 4, new int[0], 4, SAMPLING, 1, replies.ref()));
        DecodeWorker.SegmentFailed failed = assertInstanceOf(DecodeWorker.SegmentFailed.class, replies.receiveMessage(TIMEOUT));
        assertTrue(failed.reason().contains("unknown parent node 3"), failed.reason());
    }

    @Test
    void requestsWaitForFreeBlocksInsteadOfFailing() {
        // Two blocks of 16 tokens: room for about two segments of 3 + 12 tokens at a time, not four.
        ActorRef<DecodeWorker.Command> worker = loadedWorker("back-pressure", 2);
        TestProbe<SegmentReply> replies = TEST_KIT.createTestProbe();
        for (int tree = 0; tree < 4; tree++) {
            worker.tell(new DecodeSegment(tree, 0, -1, 0, new int[] {5, 6, 7}, 12, SAMPLING, tree, replies.ref()));
        }
        for (int i = 0; i < 4; i++) {
            SegmentReply reply = replies.receiveMessage(TIMEOUT);
            SegmentDecoded decoded = assertInstanceOf(SegmentDecoded.class, reply);
            worker.tell(new DecodeWorker.ReleaseTree(decoded.treeId()));
        }
    }
}
