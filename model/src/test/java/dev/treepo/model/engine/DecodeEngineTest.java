package dev.treepo.model.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.kv.KvCacheFullException;
import dev.treepo.model.nn.Qwen2Model;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.testing.RandomWeights;
import dev.treepo.model.testing.ReferenceCheckpoint;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SortedMap;

class DecodeEngineTest {

    private static final float TOLERANCE = 1e-4f;
    private static final Qwen2Config CONFIG = RandomWeights.smallConfig();
    private static final SortedMap<String, HostTensor> WEIGHTS = RandomWeights.host(CONFIG, 5);

    private static NDManager manager;
    private static Qwen2Weights referenceWeights;
    private static Qwen2Model reference;

    @BeforeAll
    static void createReference() {
        manager = NDManager.newBaseManager();
        referenceWeights = Qwen2Weights.fromHost(CONFIG, manager, WEIGHTS);
        reference = new Qwen2Model(CONFIG, referenceWeights);
    }

    @AfterAll
    static void closeReference() {
        manager.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"tied-f32", "untied-mqa-f32", "tied-bf16"})
    void greedyDecodingMatchesReference(String name) throws IOException {
        ReferenceCheckpoint checkpoint = ReferenceCheckpoint.load(name);
        Qwen2Config config = CheckpointFiles.loadConfig(checkpoint.dir());
        try (DecodeEngine engine = new DecodeEngine(config, Device.cpu(), 4, 16)) {
            engine.loadWeights(CheckpointFiles.loadModel(checkpoint.dir()));
            int seq = engine.newSequence(checkpoint.greedyPrompt());
            int[] continuation = new int[checkpoint.greedyContinuation().length];
            for (int i = 0; i < continuation.length; i++) {
                float[] logits = engine.step(new int[] {seq})[0];
                continuation[i] = argmax(logits, checkpoint.vocabSizeUsed());
                engine.append(seq, new int[] {continuation[i]});
            }
            assertArrayEquals(checkpoint.greedyContinuation(), continuation);
            assertEquals(checkpoint.greedyPrompt().length + continuation.length - 1,
                    engine.tokensForwarded());
        }
    }

    @Test
    void cachedDecodeEqualsFullForward() {
        int[] tokens = randomTokens(30, 1);
        try (DecodeEngine engine = newEngine(4, 32)) {
            int seq = engine.newSequence(Arrays.copyOf(tokens, 7));
            float[] logits = engine.step(new int[] {seq})[0];
            assertLogitsEqual(fullForwardLast(Arrays.copyOf(tokens, 7)), logits, "prefill");
            for (int length = 8; length <= tokens.length; length++) {
                engine.append(seq, new int[] {tokens[length - 1]});
                logits = engine.step(new int[] {seq})[0];
                assertLogitsEqual(fullForwardLast(Arrays.copyOf(tokens, length)), logits,
                        "decode at length " + length);
                assertEquals(length, engine.cachedLength(seq));
            }
            assertEquals(tokens.length, engine.tokensForwarded());
            engine.blocks().checkInvariants();
        }
    }

    @Test
    void forkedBranchesEqualIndependentSequences() {
        int[] prompt = randomTokens(10, 2);
        try (DecodeEngine engine = newEngine(4, 64)) {
            int parent = engine.newSequence(prompt);
            engine.step(new int[] {parent});

            // Children of one parent: mid-block (6 = 4 + 2), at a block boundary (8), and at the
            // parent's full length (10, whose last block the parent still appends to).
            List<Integer> branches = new ArrayList<>();
            int[] keeps = {6, 6, 8, 10, 10};
            for (int i = 0; i < keeps.length; i++) {
                int child = engine.forkAt(parent, keeps[i]);
                assertEquals(keeps[i], engine.cachedLength(child));
                assertArrayEquals(Arrays.copyOf(prompt, keeps[i]), engine.tokens(child));
                engine.append(child, randomTokens(1 + i % 3, 10 + i));
                branches.add(child);
                engine.blocks().checkInvariants();
            }
            engine.append(parent, randomTokens(2, 20));
            branches.add(parent);

            // Grow every branch for a few steps, all in one batch, checking each step.
            for (int round = 0; round < 5; round++) {
                int[] seqs = branches.stream().mapToInt(Integer::intValue).toArray();
                float[][] logits = engine.step(seqs);
                for (int b = 0; b < seqs.length; b++) {
                    assertLogitsEqual(fullForwardLast(engine.tokens(seqs[b])), logits[b],
                            "branch " + seqs[b] + " round " + round);
                    engine.append(seqs[b], randomTokens(1, 100 * round + b));
                }
                engine.blocks().checkInvariants();
            }

            // A fork of a fork, taken mid-block from a child that diverged from the parent.
            int grandchild = engine.forkAt(branches.get(0), 7);
            engine.append(grandchild, randomTokens(3, 77));
            float[] logits = engine.step(new int[] {grandchild})[0];
            assertLogitsEqual(fullForwardLast(engine.tokens(grandchild)), logits, "grandchild");
            engine.blocks().checkInvariants();
        }
    }

    @Test
    void forkBeyondCachedPrefixRecomputesTail() {
        try (DecodeEngine engine = newEngine(4, 16)) {
            int parent = engine.newSequence(randomTokens(5, 3));
            engine.step(new int[] {parent});
            engine.append(parent, randomTokens(3, 4));
            // Keeps 7 tokens: 5 cached and shared, 2 pending in the child.
            int child = engine.forkAt(parent, 7);
            assertEquals(5, engine.cachedLength(child));
            assertEquals(7, engine.length(child));
            float[][] logits = engine.step(new int[] {child, parent});
            assertLogitsEqual(fullForwardLast(engine.tokens(child)), logits[0], "child");
            assertLogitsEqual(fullForwardLast(engine.tokens(parent)), logits[1], "parent");
            engine.blocks().checkInvariants();
        }
    }

    @Test
    void batchedStepEqualsSteppingAlone() {
        int[][] prompts = {randomTokens(7, 30), randomTokens(5, 31), randomTokens(9, 32),
                randomTokens(1, 33)};
        int[][] extra = {{}, randomTokens(1, 40), randomTokens(3, 41), randomTokens(2, 42)};
        float[][] batched;
        float[][] alone = new float[prompts.length][];
        try (DecodeEngine engine = newEngine(4, 64)) {
            int[] seqs = prepare(engine, prompts, extra);
            batched = engine.step(seqs);
            engine.blocks().checkInvariants();
        }
        try (DecodeEngine engine = newEngine(4, 64)) {
            int[] seqs = prepare(engine, prompts, extra);
            for (int b = 0; b < seqs.length; b++) {
                alone[b] = engine.step(new int[] {seqs[b]})[0];
            }
        }
        for (int b = 0; b < prompts.length; b++) {
            assertLogitsEqual(alone[b], batched[b], "sequence " + b);
        }
    }

    @Test
    void releasingEverythingLeaksNoBlocks() {
        Random random = new Random(9);
        try (DecodeEngine engine = newEngine(4, 200)) {
            List<Integer> live = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                live.add(engine.newSequence(randomTokens(3 + i, 50 + i)));
            }
            engine.step(live.stream().mapToInt(Integer::intValue).toArray());
            int arrays = engine.liveArrays();
            for (int round = 0; round < 6; round++) {
                // Fork random sequences at random points, release some, step the rest.
                for (int i = 0; i < 3; i++) {
                    int parent = live.get(random.nextInt(live.size()));
                    int keep = random.nextInt(engine.length(parent) + 1);
                    int child = engine.forkAt(parent, keep);
                    engine.append(child, randomTokens(1 + random.nextInt(3), round * 10 + i));
                    live.add(child);
                    engine.blocks().checkInvariants();
                }
                int victim = live.remove(random.nextInt(live.size()));
                engine.release(victim);
                engine.blocks().checkInvariants();
                for (int seq : live) {
                    if (engine.length(seq) == engine.cachedLength(seq)) {
                        engine.append(seq, randomTokens(1, seq));
                    }
                }
                engine.step(live.stream().mapToInt(Integer::intValue).toArray());
                engine.blocks().checkInvariants();
                assertEquals(arrays, engine.liveArrays(), "arrays held after step " + round);
            }
            for (int seq : live) {
                engine.release(seq);
                engine.blocks().checkInvariants();
            }
            assertEquals(0, engine.blocks().usedBlocks());
            assertEquals(200, engine.freeBlocks());
        }
    }

    @Test
    void poolTooSmallRaisesCacheFull() {
        try (DecodeEngine engine = newEngine(4, 3)) {
            assertTrue(engine.canAdmit(12));
            assertFalse(engine.canAdmit(13));
            int first = engine.newSequence(randomTokens(9, 60));
            int second = engine.newSequence(randomTokens(5, 61));
            KvCacheFullException error = assertThrows(KvCacheFullException.class,
                    () -> engine.step(new int[] {first, second}));
            assertTrue(error.getMessage().contains("only 3 of 3 blocks are free"),
                    error.getMessage());
            assertEquals(5, error.neededBlocks(), "3 blocks for 9 tokens plus 2 for 5");
            // Nothing was allocated, so each sequence alone still fits after the other leaves.
            assertEquals(0, engine.cachedLength(first));
            assertEquals(3, engine.freeBlocks());
            engine.release(second);
            float[] logits = engine.step(new int[] {first})[0];
            assertLogitsEqual(fullForwardLast(engine.tokens(first)), logits, "after retry");
            engine.blocks().checkInvariants();
        }
    }

    @Test
    void stepRejectsInvalidRequests() {
        try (DecodeEngine engine = newEngine(4, 8)) {
            int seq = engine.newSequence(randomTokens(3, 70));
            assertThrows(IllegalArgumentException.class, () -> engine.step(new int[] {seq, seq}));
            engine.step(new int[] {seq});
            IllegalArgumentException noPending = assertThrows(IllegalArgumentException.class,
                    () -> engine.step(new int[] {seq}));
            assertTrue(noPending.getMessage().contains("no pending token"), noPending.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> engine.append(seq, new int[] {CONFIG.vocabSize()}));
            assertThrows(IllegalArgumentException.class, () -> engine.forkAt(seq, 4));
            engine.release(seq);
            assertThrows(IllegalArgumentException.class, () -> engine.tokens(seq));
        }
        try (DecodeEngine engine = new DecodeEngine(CONFIG, Device.cpu(), 4, 8)) {
            int seq = engine.newSequence(new int[] {1});
            assertThrows(IllegalStateException.class, () -> engine.step(new int[] {seq}));
        }
    }

    @Test
    void loadWeightsReplacesValuesInPlace() {
        SortedMap<String, HostTensor> other = RandomWeights.host(CONFIG, 6);
        int[] tokens = randomTokens(6, 80);
        try (DecodeEngine engine = newEngine(4, 8);
                NDManager local = manager.newSubManager();
                Qwen2Weights otherWeights = Qwen2Weights.fromHost(CONFIG, local, other)) {
            int arrays = engine.liveArrays();
            engine.loadWeights(other);
            assertEquals(arrays, engine.liveArrays());
            int seq = engine.newSequence(tokens);
            float[] logits = engine.step(new int[] {seq})[0];
            float[] expected = lastLogits(new Qwen2Model(CONFIG, otherWeights), tokens);
            assertLogitsEqual(expected, logits, "after reload");
        }
    }

    private static int[] prepare(DecodeEngine engine, int[][] prompts, int[][] extra) {
        int[] seqs = new int[prompts.length];
        for (int b = 0; b < prompts.length; b++) {
            seqs[b] = engine.newSequence(prompts[b]);
            if (extra[b].length > 0) {
                engine.step(new int[] {seqs[b]});
                engine.append(seqs[b], extra[b]);
            }
        }
        return seqs;
    }

    private static DecodeEngine newEngine(int blockTokens, int blocks) {
        DecodeEngine engine = new DecodeEngine(CONFIG, Device.cpu(), blockTokens, blocks);
        engine.loadWeights(WEIGHTS);
        return engine;
    }

    private static float[] fullForwardLast(int[] tokens) {
        return lastLogits(reference, tokens);
    }

    private static float[] lastLogits(Qwen2Model model, int[] tokens) {
        try (NDManager local = manager.newSubManager()) {
            long[] ids = Arrays.stream(tokens).asLongStream().toArray();
            NDArray logits = model.forward(local.create(ids, new Shape(1, tokens.length)));
            float[] all = logits.toFloatArray();
            int vocab = model.config().vocabSize();
            return Arrays.copyOfRange(all, (tokens.length - 1) * vocab, tokens.length * vocab);
        }
    }

    private static int[] randomTokens(int count, long seed) {
        Random random = new Random(seed);
        int[] tokens = new int[count];
        for (int i = 0; i < count; i++) {
            tokens[i] = random.nextInt(CONFIG.vocabSize());
        }
        return tokens;
    }

    private static int argmax(float[] logits, int limit) {
        int best = 0;
        for (int i = 1; i < limit; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static void assertLogitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": logit count");
        float maxError = 0;
        for (int i = 0; i < expected.length; i++) {
            maxError = Math.max(maxError, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxError <= TOLERANCE, what + ": max logit difference " + maxError);
    }
}
