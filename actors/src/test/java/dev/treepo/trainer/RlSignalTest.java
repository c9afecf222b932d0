package dev.treepo.trainer;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.CharVocabulary;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.model.train.PolicyLoss;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.model.train.TrainerSettings;
import dev.treepo.rollout.RolloutRouter;
import dev.treepo.rollout.TestInference;
import dev.treepo.task.ArithmeticTask;
import dev.treepo.task.PromptFormat;
import dev.treepo.task.RewardFunction;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.tree.TreeConfig;
import dev.treepo.worker.DecodeWorker;
import dev.treepo.worker.TinyModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole RL loop must raise a reward that is easy to learn: responses containing the digit 7. */
class RlSignalTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    @Test
    void rewardRisesOnEasyTarget(@TempDir Path runDir) throws Exception {
        Tokenizer tokenizer = TinyModel.tokenizer();
        NDManager manager = NDManager.newBaseManager(Device.cpu());
        PolicyTrainer policy = new PolicyTrainer(
                Qwen2Weights.fromHost(TinyModel.CONFIG, manager, TinyModel.randomWeights(2)), null,
                tokenizer.padId(), tokenizer.vocabSize(), new TrainerSettings(3e-3, 0.0, 1.0, PolicyLoss.defaults()));
        ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                DecodeWorker.create("w0", TinyModel.engine(2048), tokenizer.vocabSize(), tokenizer.eosId(), 256));
        ActorRef<RolloutRouter.Command> router = TestInference.router(TEST_KIT, worker, tokenizer, 16);
        TreeConfig tree = new TreeConfig(TreeConfig.Mode.TREE, 8, 4, 2, 2, 2, TreeConfig.Allocation.EVEN, 1.0, 0,
                TreeConfig.FallbackSource.CLEAN_FIRST, TreeConfig.FallbackCut.RANDOM_BLOCK, 0, 32, 8);
        RewardFunction sevens = (problem, text) -> text.contains("7") ? 1.0 : 0.0;
        Trainer.Job job = new Trainer.Job(ArithmeticTask.train(3, 256), List.of(), new PromptFormat(), sevens,
                new BoxedAnswerScenario(tree), tree, new SamplingParams(1.0, 1.0, 0), 0, 0);
        int steps = 40;
        TrainingSchedule schedule = new TrainingSchedule(0, 1, 1e-3, steps, 16, 3e-3, 1, AdvantageEstimator.TREEPO,
                false, 1, 1, 0, 5, runDir, false);
        ActorRef<Trainer.Command> trainer = TEST_KIT.spawn(Trainer.create(schedule, job, policy, tokenizer,
                new CheckpointWriter(TinyModel.CONFIG, CharVocabulary.writeTokenizerJson(runDir.resolve("t.json"))),
                router));
        TestProbe<Trainer.TrainingFinished> done = TEST_KIT.createTestProbe();
        trainer.tell(new Trainer.Start(done.ref()));
        assertNull(done.receiveMessage(Duration.ofMinutes(5)).error());

        List<String> lines = Files.readAllLines(runDir.resolve("metrics.jsonl"));
        ObjectMapper json = new ObjectMapper();
        double first = 0;
        double last = 0;
        for (int i = 0; i < 5; i++) {
            first += json.readTree(lines.get(i)).get("reward_mean").asDouble() / 5;
            last += json.readTree(lines.get(steps - 1 - i)).get("reward_mean").asDouble() / 5;
        }
        assertTrue(last > first + 0.3, "reward of the first five steps " + first + ", of the last five " + last);
        policy.close();
        manager.close();
    }
}
