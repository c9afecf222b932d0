package dev.treepo.rollout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeConfig;
import dev.treepo.worker.DecodeWorker;
import dev.treepo.worker.TinyModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class RolloutManagerTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();
    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final Tokenizer TOKENIZER = TinyModel.tokenizer();

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private static TreeConfig tree(int width, int depth, int branch) {
        return new TreeConfig(TreeConfig.Mode.TREE, width, 4, depth, 1, branch, TreeConfig.Allocation.EVEN, 1.0, 0,
                TreeConfig.FallbackSource.CLEAN_FIRST, TreeConfig.FallbackCut.RANDOM_BLOCK, 0, 32, 8);
    }

    private static List<ActorRef<DecodeWorker.Command>> workers(String prefix, int count, int eosId) {
        List<ActorRef<DecodeWorker.Command>> workers = new ArrayList<>();
        TestProbe<DecodeWorker.WeightsLoaded> loaded = TEST_KIT.createTestProbe();
        for (int i = 0; i < count; i++) {
            ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                    DecodeWorker.create(prefix + i, TinyModel.engine(512), TOKENIZER.vocabSize(), eosId, 128));
            worker.tell(new DecodeWorker.LoadWeights(TinyModel.policy(1, 5), loaded.ref()));
            loaded.expectMessageClass(DecodeWorker.WeightsLoaded.class, TIMEOUT);
            workers.add(worker);
        }
        return workers;
    }

    private static List<PromptJob> prompts(int count) {
        List<PromptJob> jobs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            jobs.add(new PromptJob(i, TOKENIZER.encode("Q: " + (i + 2) + "+" + (i * 3) + "\nA: ")));
        }
        return jobs;
    }

    private static RolloutFinished run(ActorRef<RolloutManager.Command> manager, long id, int prompts, TreeConfig config) {
        TestProbe<RolloutFinished> probe = TEST_KIT.createTestProbe();
        manager.tell(new RolloutManager.RunRollout(id, prompts(prompts), config, new BoxedAnswerScenario(config),
                new SamplingParams(1.0, 1.0, 0), 42, probe.ref()));
        return probe.receiveMessage(TIMEOUT);
    }

    @Test
    void everyPromptGetsExactlyWidthLeaves() {
        // EOS is a common token for this random model when its id is 3 (newline), so paths end early at
        // different depths and fallback regrows them.
        List<ActorRef<DecodeWorker.Command>> workers = workers("leaves-", 1, 3);
        ActorRef<RolloutManager.Command> manager = TEST_KIT.spawn(RolloutManager.create(workers, TOKENIZER, 3));
        TreeConfig config = tree(8, 4, 2);
        RolloutFinished finished = run(manager, 1, 5, config);
        assertTrue(finished.failures().isEmpty(), finished.failures().toString());
        assertEquals(5, finished.trees().size());
        for (int i = 0; i < 5; i++) {
            TreeRoot.TreeFinished tree = finished.trees().get(i);
            assertEquals(i, tree.promptIndex());
            assertEquals(8, tree.leaves().size(), "leaves of prompt " + i);
            for (Leaf leaf : tree.leaves()) {
                assertTrue(leaf.responseTokens().length <= config.effectiveMaxResponseTokens());
            }
            assertEquals(1, tree.oldestPolicyVersion());
        }
        assertTrue(finished.inferenceCalls() > 0);
        assertTrue(finished.tokensForwarded() > 0);
    }

    @Test
    void treeForwardsFewerTokensThanIndependentChains() {
        List<ActorRef<DecodeWorker.Command>> workers = workers("compare-", 1, -1);
        ActorRef<RolloutManager.Command> manager = TEST_KIT.spawn(RolloutManager.create(workers, TOKENIZER, 8));
        TreeConfig tree = tree(8, 4, 2);
        RolloutFinished branched = run(manager, 1, 4, tree);
        RolloutFinished chains = run(manager, 2, 4, tree.independent(8));
        // Without early finishes: the tree decodes levels of 1, 2, 4 and 8 nodes per prompt, the chains 8 x 4.
        assertEquals(4 * (1 + 2 + 4 + 8), branched.inferenceCalls());
        assertEquals(4 * 8 * 4, chains.inferenceCalls());
        assertTrue(branched.tokensForwarded() < chains.tokensForwarded(),
                branched.tokensForwarded() + " vs " + chains.tokensForwarded());
        assertEquals(branched.tokensInLeaves(), chains.tokensInLeaves());
    }

    @Test
    void treesSpreadOverWorkers() {
        List<ActorRef<DecodeWorker.Command>> workers = workers("spread-", 2, -1);
        ActorRef<RolloutManager.Command> manager = TEST_KIT.spawn(RolloutManager.create(workers, TOKENIZER, 4));
        RolloutFinished finished = run(manager, 1, 6, tree(4, 2, 2));
        Set<String> served = new HashSet<>();
        for (TreeRoot.TreeFinished tree : finished.trees()) {
            assertEquals(1, tree.workers().size(), "one tree stays on one worker");
            served.addAll(tree.workers());
        }
        assertEquals(Set.of("spread-0", "spread-1"), served);
    }
}
