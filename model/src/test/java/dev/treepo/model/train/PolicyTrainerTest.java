package dev.treepo.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.tokenizer.CharVocabulary;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

class PolicyTrainerTest {

    /** Tiny model over the character vocabulary, with 5 padded embedding rows beyond it. */
    private static final Qwen2Config CONFIG = new Qwen2Config(
            CharVocabulary.SIZE + 5, 32, 64, 2, 4, 2, 10000.0, 1e-6, 128, true, -1, CharVocabulary.EOS_ID);

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static int[] encode(String text) {
        int[] ids = new int[text.length()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = CharVocabulary.idOf(text.charAt(i));
        }
        return ids;
    }

    /** Returns prompt + response + EOS as a sequence whose response starts after the prompt. */
    private static TrainSequence sequence(String prompt, String response, float advantage) {
        int[] promptIds = encode(prompt);
        int[] responseIds = encode(response);
        int[] tokens = new int[promptIds.length + responseIds.length + 1];
        System.arraycopy(promptIds, 0, tokens, 0, promptIds.length);
        System.arraycopy(responseIds, 0, tokens, promptIds.length, responseIds.length);
        tokens[tokens.length - 1] = CharVocabulary.EOS_ID;
        return TrainSequence.of(tokens, promptIds.length, advantage);
    }

    private PolicyTrainer trainer(double learningRate, PolicyLoss loss, boolean withReference) {
        Qwen2Weights policy = Qwen2Weights.random(CONFIG, manager, 42);
        Qwen2Weights reference = withReference ? Qwen2Weights.random(CONFIG, manager, 42) : null;
        return new PolicyTrainer(policy, reference, CharVocabulary.PAD_ID,
                new TrainerSettings(learningRate, 0.0, 1.0, loss));
    }

    @Test
    void sftDrivesLossDown() {
        TrainSequence example = sequence("Q: 2+3?\nA:", " \\boxed{5}", 0);
        List<TrainSequence> batch = List.of(example, example);

        try (PolicyTrainer trainer = trainer(1e-2, PolicyLoss.defaults(), false)) {
            List<Double> losses = new ArrayList<>();
            for (int step = 0; step < 50; step++) {
                SftStats stats = trainer.sftStep(batch);
                losses.add(stats.loss());
                assertEquals(2 * example.responseLength(), stats.tokens(), 0);
            }

            double first = losses.get(0);
            double last = losses.get(losses.size() - 1);
            assertTrue(first > 3, "an untrained model should be near ln(V), got " + first);
            assertTrue(last < 0.3 * first, "loss went from " + first + " to " + last);
            assertEquals(50, trainer.stepCount());
        }
    }

    @Test
    void positiveAdvantageRaisesLogprob() {
        List<TrainSequence> batch = List.of(sequence("Q: 1+1?\nA:", " 2", 1f));

        try (PolicyTrainer trainer = trainer(1e-3, PolicyLoss.defaults(), false)) {
            double before = trainer.sequenceLogprobs(batch)[0];

            RlStats stats = trainer.rlStep(batch, 1);

            double after = trainer.sequenceLogprobs(batch)[0];
            assertTrue(after > before, "log-prob went from " + before + " to " + after);
            assertEquals(1, stats.updates());
            // The first update is on-policy, so the ratio is 1: no clipping, no drift.
            assertEquals(0, stats.clipFraction(), 0);
            assertEquals(0, stats.approxKl(), 1e-5);
            assertEquals(-1, stats.loss(), 1e-5);
        }
    }

    @Test
    void negativeAdvantageLowersLogprob() {
        List<TrainSequence> batch = List.of(sequence("Q: 1+1?\nA:", " 3", -1f));

        try (PolicyTrainer trainer = trainer(1e-3, PolicyLoss.defaults(), false)) {
            double before = trainer.sequenceLogprobs(batch)[0];

            trainer.rlStep(batch, 1);

            double after = trainer.sequenceLogprobs(batch)[0];
            assertTrue(after < before, "log-prob went from " + before + " to " + after);
        }
    }

    @Test
    void miniBatchesMoveEachSequenceByItsAdvantage() {
        TrainSequence good = sequence("Q: 4+4?\nA:", " 8", 1f);
        TrainSequence bad = sequence("Q: 4+4?\nA:", " 44, I think", -1f);
        List<TrainSequence> batch = List.of(good, bad, good, bad);

        try (PolicyTrainer trainer = trainer(1e-3, PolicyLoss.defaults(), false)) {
            double[] before = trainer.sequenceLogprobs(List.of(good, bad));

            RlStats stats = trainer.rlStep(batch, 2);

            double[] after = trainer.sequenceLogprobs(List.of(good, bad));
            assertTrue(after[0] > before[0], "good went from " + before[0] + " to " + after[0]);
            assertTrue(after[1] < before[1], "bad went from " + before[1] + " to " + after[1]);
            assertEquals(2, stats.updates());
            assertEquals(0, stats.skippedUpdates());
            assertEquals(2 * (good.responseLength() + bad.responseLength()), stats.tokens(), 0);
            assertTrue(stats.gradNorm() > 0, "gradient norm " + stats.gradNorm());
        }
    }

    @Test
    void paddingDoesNotChangeLogprobs() {
        TrainSequence shortOne = sequence("Hi", "!", 0);
        TrainSequence longOne = sequence("A longer prompt,\n", " and a longer response.", 0);

        try (PolicyTrainer trainer = trainer(1e-3, PolicyLoss.defaults(), false)) {
            List<float[]> together = trainer.responseLogprobs(List.of(shortOne, longOne));
            float[] shortAlone = trainer.responseLogprobs(List.of(shortOne)).get(0);
            float[] longAlone = trainer.responseLogprobs(List.of(longOne)).get(0);

            assertEquals(shortOne.responseLength(), together.get(0).length);
            assertEquals(longOne.responseLength(), together.get(1).length);
            assertArrayEquals(shortAlone, together.get(0), 1e-5f);
            assertArrayEquals(longAlone, together.get(1), 1e-5f);
        }
    }

    @Test
    void referenceKlStartsAtZeroAndGrows() {
        List<TrainSequence> batch = List.of(sequence("Q: 9-3?\nA:", " 6", 1f));

        try (PolicyTrainer trainer = trainer(1e-2, new PolicyLoss(0.2, 0.28, 10, 0.1), true)) {
            RlStats first = trainer.rlStep(batch, 1);
            RlStats second = trainer.rlStep(batch, 1);

            assertEquals(0, first.referenceKl(), 1e-6);
            assertTrue(second.referenceKl() > 1e-6, "KL after one update: " + second.referenceKl());
        }
    }

    @Test
    void arrayCountStaysFlat() {
        NDManager system = manager.getParentManager();
        TrainSequence example = sequence("Q: 2+2?\nA:", " 4", 1f);
        List<TrainSequence> batch = List.of(example, sequence("Q: 3+3?\nA:", " 6", -1f));

        try (PolicyTrainer trainer = trainer(1e-3, PolicyLoss.defaults(), true)) {
            trainer.sftStep(batch);
            trainer.rlStep(batch, 2);
            trainer.sequenceLogprobs(batch);
            int warm = system.getManagedArrays().size();

            for (int step = 0; step < 3; step++) {
                trainer.sftStep(batch);
                trainer.rlStep(batch, 2);
                trainer.sequenceLogprobs(batch);
            }

            assertEquals(warm, system.getManagedArrays().size(), "NDArrays alive after 3 more steps");
        }
    }

    @Test
    void resumesFromWeightsAndOptimizerState() {
        List<TrainSequence> batch = List.of(sequence("Q: 5*2?\nA:", " 10", 0));

        try (PolicyTrainer original = trainer(1e-2, PolicyLoss.defaults(), false)) {
            original.sftStep(batch);
            original.sftStep(batch);
            SortedMap<String, HostTensor> weights = original.weights();
            SortedMap<String, HostTensor> state = original.optimizerState();

            Qwen2Weights restoredWeights = Qwen2Weights.random(CONFIG, manager, 7);
            try (PolicyTrainer restored = new PolicyTrainer(restoredWeights, null, CharVocabulary.PAD_ID,
                    new TrainerSettings(1e-2, 0.0, 1.0, PolicyLoss.defaults()))) {
                restored.loadWeights(weights);
                restored.loadOptimizerState(state);
                assertEquals(2, restored.stepCount());

                original.sftStep(batch);
                restored.sftStep(batch);

                Map<String, HostTensor> expected = original.weights();
                Map<String, HostTensor> actual = restored.weights();
                for (String name : expected.keySet()) {
                    assertArrayEquals(expected.get(name).data(), actual.get(name).data(), 1e-6f, name);
                }
            }
        }
    }

    @Test
    void rejectsInvalidBatches() {
        try (PolicyTrainer trainer = trainer(1e-3, PolicyLoss.defaults(), false)) {
            List<TrainSequence> batch = List.of(sequence("ab", "c", 1f));
            TrainSequence outOfVocabulary = TrainSequence.of(new int[] {3, CONFIG.vocabSize()}, 1, 1f);

            assertThrows(IllegalArgumentException.class, () -> trainer.rlStep(batch, 0));
            assertThrows(IllegalArgumentException.class, () -> trainer.rlStep(batch, 2));
            assertThrows(IllegalArgumentException.class, () -> trainer.sftStep(List.of()));
            IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                    () -> trainer.sftStep(List.of(outOfVocabulary)));
            assertTrue(error.getMessage().contains("position 1"), error.getMessage());
        }
    }

    @Test
    void klWithoutReferenceIsRejected() {
        Qwen2Weights policy = Qwen2Weights.random(CONFIG, manager, 1);

        assertThrows(IllegalArgumentException.class, () -> new PolicyTrainer(policy, null, CharVocabulary.PAD_ID,
                new TrainerSettings(1e-3, 0, 1, new PolicyLoss(0.2, 0.28, 10, 0.1))));
    }
}
