package dev.treepo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.model.train.PolicyLoss;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.model.train.TrainSequence;
import dev.treepo.model.train.TrainerSettings;
import dev.treepo.rollout.RolloutManager;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.rollout.TreeRoot;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.TreeConfig;
import dev.treepo.worker.DecodeWorker;
import dev.treepo.worker.TinyModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The policy that samples a tree (cached, forked, batched decode) must be the policy the trainer
 * scores: every leaf's sampled log-probs equal a teacher-forced forward over prompt plus response.
 */
class RolloutLogprobsTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    private static RolloutFinished rollout(
            Tokenizer tokenizer,
            java.util.SortedMap<String, dev.treepo.model.tensor.HostTensor> weights,
            int eos,
            List<PromptJob> jobs,
            TreeConfig tree,
            SamplingParams sampling) {
        ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                DecodeWorker.create("w", TinyModel.engine(1024), tokenizer.vocabSize(), eos, 64));
        TestProbe<DecodeWorker.WeightsLoaded> loaded = TEST_KIT.createTestProbe();
        worker.tell(new DecodeWorker.LoadWeights(new dev.treepo.policy.PolicyWeights(1, weights), loaded.ref()));
        loaded.receiveMessage(Duration.ofSeconds(30));
        ActorRef<RolloutManager.Command> rollouts = TEST_KIT.spawn(RolloutManager.create(List.of(worker), tokenizer, 4));
        TestProbe<RolloutFinished> probe = TEST_KIT.createTestProbe();
        rollouts.tell(new RolloutManager.RunRollout(1, jobs, tree, new BoxedAnswerScenario(tree), sampling, 5,
                probe.ref()));
        return probe.receiveMessage(Duration.ofSeconds(60));
    }

    @Test
    void treeLeavesMatchTeacherForcedLogprobs() {
        Tokenizer tokenizer = TinyModel.tokenizer();
        var weights = TinyModel.randomWeights(9);
        TreeConfig tree = new TreeConfig(TreeConfig.Mode.TREE, 6, 5, 4, 2, 2, TreeConfig.Allocation.EVEN, 1.0, 0,
                TreeConfig.FallbackSource.CLEAN_FIRST, TreeConfig.FallbackCut.MIN_LOGPROB, 0, 32, 8);
        List<int[]> prompts = new ArrayList<>();
        List<PromptJob> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            prompts.add(tokenizer.encode("Q: " + (17 * i + 3) + "*" + (i + 2) + "\nA: "));
            jobs.add(new PromptJob(i, prompts.get(i)));
        }

        // First pass without EOS, greedy: find a token every path emits early. Declaring it the EOS
        // of the second pass ends paths early, so fallback regrows them from cut points.
        RolloutFinished probeRun = rollout(tokenizer, weights, -1, jobs, tree.independent(1), SamplingParams.greedy());
        int eos = probeRun.trees().get(0).leaves().get(0).responseTokens()[2];
        RolloutFinished finished = rollout(tokenizer, weights, eos, jobs, tree, new SamplingParams(1.0, 1.0, 3));
        assertTrue(finished.failures().isEmpty());

        List<TrainSequence> sequences = new ArrayList<>();
        List<float[]> sampled = new ArrayList<>();
        for (TreeRoot.TreeFinished finishedTree : finished.trees()) {
            for (Leaf leaf : finishedTree.leaves()) {
                int[] prompt = prompts.get(leaf.promptIndex());
                int[] tokens = new int[prompt.length + leaf.responseTokens().length];
                System.arraycopy(prompt, 0, tokens, 0, prompt.length);
                System.arraycopy(leaf.responseTokens(), 0, tokens, prompt.length, leaf.responseTokens().length);
                sequences.add(new TrainSequence(tokens, prompt.length, null, 0f));
                sampled.add(leaf.logprobs());
            }
        }

        NDManager manager = NDManager.newBaseManager(Device.cpu());
        try (PolicyTrainer trainer = new PolicyTrainer(Qwen2Weights.fromHost(TinyModel.CONFIG, manager, weights), null,
                tokenizer.padId(), tokenizer.vocabSize(), new TrainerSettings(1e-3, 0, 1, PolicyLoss.defaults()))) {
            List<float[]> forced = trainer.responseLogprobs(sequences);
            for (int i = 0; i < sequences.size(); i++) {
                assertEquals(sampled.get(i).length, forced.get(i).length, "leaf " + i);
                for (int t = 0; t < sampled.get(i).length; t++) {
                    assertEquals(forced.get(i)[t], sampled.get(i)[t], 2e-4, "leaf " + i + " token " + t);
                }
            }
        } finally {
            manager.close();
        }
        assertTrue(finished.trees().stream().mapToInt(t -> t.stats().fallbacks()).sum() > 0, "no fallback ran");
    }
}
