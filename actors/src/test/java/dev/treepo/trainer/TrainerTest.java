package dev.treepo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.treepo.model.checkpoint.CheckpointFiles;
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
import dev.treepo.task.BoxedMatchReward;
import dev.treepo.task.PromptFormat;
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

class TrainerTest {

    private static final ActorTestKit TEST_KIT = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        TEST_KIT.shutdownTestKit();
    }

    @Test
    void shortRunWritesMetricsCheckpointsAndEvaluation(@TempDir Path runDir) throws Exception {
        Tokenizer tokenizer = TinyModel.tokenizer();
        Path tokenizerJson = CharVocabulary.writeTokenizerJson(runDir.resolve("tokenizer-source.json"));
        NDManager manager = NDManager.newBaseManager(Device.cpu());
        PolicyTrainer policy = new PolicyTrainer(
                Qwen2Weights.fromHost(TinyModel.CONFIG, manager, TinyModel.randomWeights(1)), null,
                tokenizer.padId(), new TrainerSettings(1e-3, 0.0, 1.0, PolicyLoss.defaults()));

        ActorRef<DecodeWorker.Command> worker = TEST_KIT.spawn(
                DecodeWorker.create("w0", TinyModel.engine(1024), tokenizer.vocabSize(), tokenizer.eosId(), 128));
        ActorRef<RolloutRouter.Command> router = TestInference.router(TEST_KIT, worker, tokenizer, 8);
        TreeConfig tree = new TreeConfig(TreeConfig.Mode.TREE, 4, 4, 3, 2, 2, TreeConfig.Allocation.EVEN, 1.0, 0,
                TreeConfig.FallbackSource.CLEAN_FIRST, TreeConfig.FallbackCut.RANDOM_BLOCK, 0, 32, 8);
        Trainer.Job job = new Trainer.Job(ArithmeticTask.train(3, 64), ArithmeticTask.eval(3, 6), new PromptFormat(),
                new BoxedMatchReward(), new BoxedAnswerScenario(tree), tree, new SamplingParams(1.0, 1.0, 0), 0, 0);
        TrainingSchedule schedule = new TrainingSchedule(3, 4, 1e-3, 2, 3, 1e-3, 2, AdvantageEstimator.TREEPO, false, 1, 2,
                1, 5, runDir, true);
        CheckpointWriter checkpoints = new CheckpointWriter(TinyModel.CONFIG, tokenizerJson);

        ActorRef<Trainer.Command> trainer = TEST_KIT.spawn(
                Trainer.create(schedule, job, policy, tokenizer, checkpoints, router));
        TestProbe<Trainer.TrainingFinished> done = TEST_KIT.createTestProbe();
        trainer.tell(new Trainer.Start(done.ref()));
        Trainer.TrainingFinished finished = done.receiveMessage(Duration.ofMinutes(3));

        assertNull(finished.error());
        assertNotNull(finished.before());
        assertNotNull(finished.after());
        assertEquals(6, finished.after().problems());
        assertEquals(2, finished.after().samples());

        List<String> lines = Files.readAllLines(runDir.resolve("metrics.jsonl"));
        assertEquals(2, lines.size());
        ObjectMapper json = new ObjectMapper();
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = json.readTree(lines.get(i));
            assertEquals(i + 1, line.get("step").asInt());
            for (String key : List.of("reward_mean", "inference_calls", "tokens_forwarded", "tokens_in_leaves",
                    "rollout_seconds", "train_seconds", "policy_version")) {
                assertTrue(line.has(key), "missing " + key + " in " + lines.get(i));
            }
            assertEquals(12, line.get("leaves").asInt(), "3 prompts x 4 leaves");
            // Warm-up publishes version 1; each RL step publishes the next.
            assertEquals(i + 2, line.get("policy_version").asLong());
        }

        Path finalDir = runDir.resolve("final");
        assertEquals(finalDir, finished.finalCheckpoint());
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "optimizer.safetensors",
                "trainer_state.json")) {
            assertTrue(Files.isRegularFile(finalDir.resolve(file)), "missing " + file);
        }
        assertEquals(policy.weights(), CheckpointFiles.loadModel(finalDir));
        assertTrue(Files.isDirectory(runDir.resolve("warmup")));
        assertTrue(Files.isDirectory(runDir.resolve("checkpoint-1")));
        assertTrue(Files.isRegularFile(runDir.resolve("eval.jsonl")));
        policy.close();
    }
}
