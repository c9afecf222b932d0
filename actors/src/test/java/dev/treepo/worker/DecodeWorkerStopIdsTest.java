package dev.treepo.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.worker.DecodeWorker.DecodeSegment;
import dev.treepo.worker.DecodeWorker.SegmentDecoded;
import dev.treepo.worker.DecodeWorker.SegmentReply;
import java.time.Duration;
import java.util.Arrays;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class DecodeWorkerStopIdsTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int[] PROMPT = {10, 11, 12, 13};
    private static final int TOKENS = 16;

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    /** Decodes one greedy segment of the fixed prompt with a new worker that stops on {@code stopIds}. */
    private static SegmentDecoded decode(String id, int[] stopIds) {
        ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                DecodeWorker.create(id, TinyModel.engine(64), 99, stopIds, 8));
        TestProbe<DecodeWorker.WeightsLoaded> loaded = TEST_KIT.createTestProbe();
        worker.tell(new DecodeWorker.LoadWeights(TinyModel.policy(1, 5), loaded.ref()));
        loaded.expectMessageClass(DecodeWorker.WeightsLoaded.class, TIMEOUT);
        TestProbe<SegmentReply> replies = TEST_KIT.createTestProbe();
        worker.tell(new DecodeSegment(1, 0, -1, 0, PROMPT, TOKENS, SamplingParams.greedy(), 1, replies.ref()));
        SegmentDecoded decoded = assertInstanceOf(SegmentDecoded.class, replies.receiveMessage(TIMEOUT));
        TEST_KIT.stop(worker);
        return decoded;
    }

    private static int firstIndexOf(int[] tokens, int... ids) {
        for (int i = 0; i < tokens.length; i++) {
            for (int id : ids) {
                if (tokens[i] == id) {
                    return i;
                }
            }
        }
        return -1;
    }

    @Test
    void noStopIdsRunsToTokenLimit() {
        SegmentDecoded full = decode("no-stop", new int[0]);
        assertEquals(TOKENS, full.tokens().length);
        assertFalse(full.endedWithEos());
    }

    @Test
    void segmentStopsAtFirstOfSeveralStopIds() {
        int[] full = decode("reference", new int[0]).tokens();
        // Two ids the greedy path emits, given in reverse order, plus one it may never emit.
        int late = full[9];
        int early = full[4];
        int[] stopIds = {late, 98, early};
        int stop = firstIndexOf(full, stopIds);

        SegmentDecoded stopped = decode("stop-ids", stopIds);

        assertTrue(stopped.endedWithEos());
        assertArrayEquals(Arrays.copyOf(full, stop + 1), stopped.tokens());
    }

    @Test
    void negativeEosIdMeansNoStop() {
        int[] full = decode("reference-2", new int[0]).tokens();
        ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                DecodeWorker.create("eos-minus-one", TinyModel.engine(64), 99, -1, 8));
        TestProbe<DecodeWorker.WeightsLoaded> loaded = TEST_KIT.createTestProbe();
        worker.tell(new DecodeWorker.LoadWeights(TinyModel.policy(1, 5), loaded.ref()));
        loaded.expectMessageClass(DecodeWorker.WeightsLoaded.class, TIMEOUT);
        TestProbe<SegmentReply> replies = TEST_KIT.createTestProbe();
        worker.tell(new DecodeSegment(1, 0, -1, 0, PROMPT, TOKENS, SamplingParams.greedy(), 1, replies.ref()));
        SegmentDecoded decoded = assertInstanceOf(SegmentDecoded.class, replies.receiveMessage(TIMEOUT));
        assertArrayEquals(full, decoded.tokens());
        assertFalse(decoded.endedWithEos());
    }
}
