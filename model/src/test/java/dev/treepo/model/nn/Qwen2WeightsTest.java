package dev.treepo.model.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.testing.RandomWeights;
import dev.treepo.model.testing.ReferenceCheckpoint;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.SortedMap;
import java.util.TreeMap;

class Qwen2WeightsTest {

    private static NDManager manager;

    @BeforeAll
    static void createManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void closeManager() {
        manager.close();
    }

    @Test
    void randomInitIsDeterministicWithUnitNorms() {
        Qwen2Config config = Qwen2Config.tiny(50);
        try (Qwen2Weights first = Qwen2Weights.random(config, manager, 7);
                Qwen2Weights second = Qwen2Weights.random(config, manager, 7)) {
            SortedMap<String, HostTensor> host = first.toHost();
            assertEquals(host, second.toHost());
            assertEquals(Qwen2Weights.expectedShapes(config).keySet(), host.keySet());
            assertFalse(host.containsKey(Qwen2Weights.LM_HEAD), "tied preset has no lm_head");
            for (float value : host.get("model.layers.3.post_attention_layernorm.weight").data()) {
                assertEquals(1f, value);
            }
            for (float value : host.get("model.layers.0.self_attn.k_proj.bias").data()) {
                assertEquals(0f, value);
            }
            float[] embedding = host.get(Qwen2Weights.EMBED_TOKENS).data();
            double sumSquares = 0;
            for (float value : embedding) {
                sumSquares += value * value;
            }
            assertEquals(0.02, Math.sqrt(sumSquares / embedding.length), 0.002);
            assertSame(first.embedTokens(), first.lmHead());
        }
    }

    @Test
    void fromHostNamesMissingAndMisshapedTensor() {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> host = RandomWeights.host(config, 1);

        SortedMap<String, HostTensor> missing = new TreeMap<>(host);
        missing.remove("model.layers.1.mlp.up_proj.weight");
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> Qwen2Weights.fromHost(config, manager, missing));
        assertTrue(error.getMessage().contains("Missing tensor model.layers.1.mlp.up_proj.weight"),
                error.getMessage());

        SortedMap<String, HostTensor> misshaped = new TreeMap<>(host);
        misshaped.put("model.norm.weight", HostTensor.zeros(33));
        error = assertThrows(IllegalArgumentException.class,
                () -> Qwen2Weights.fromHost(config, manager, misshaped));
        assertEquals("Shape mismatch for tensor model.norm.weight: got [33], the model config "
                + "needs [32]", error.getMessage());
    }

    @Test
    void copyFromUpdatesArraysInPlace() {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> updated = RandomWeights.host(config, 2);
        try (Qwen2Weights weights =
                Qwen2Weights.fromHost(config, manager, RandomWeights.host(config, 1))) {
            NDArray query = weights.layers().get(0).qProj();
            query.setRequiresGradient(true);
            weights.copyFrom(updated);
            assertSame(query, weights.parameters().get("model.layers.0.self_attn.q_proj.weight"));
            assertTrue(query.hasGradient(), "gradient flag survives the copy");
            assertEquals(updated, weights.toHost());

            SortedMap<String, HostTensor> wrong = new TreeMap<>(updated);
            wrong.put(Qwen2Weights.LM_HEAD, HostTensor.zeros(1, 1));
            assertThrows(IllegalArgumentException.class, () -> weights.copyFrom(wrong));
            assertEquals(updated, weights.toHost(), "nothing written after a rejected copy");
        }
    }

    @Test
    void loadReadsBf16Checkpoint() throws IOException {
        ReferenceCheckpoint reference = ReferenceCheckpoint.load("tied-bf16");
        try (Qwen2Weights weights = Qwen2Weights.load(reference.dir(), manager)) {
            assertEquals(160, weights.config().vocabSize());
            assertTrue(weights.config().tieWordEmbeddings());
            assertArrayEquals(new long[] {160, 64},
                    weights.embedTokens().getShape().getShape());
            // bf16 values have at most 8 significant bits: the low 16 bits of each float are 0.
            for (float value : weights.toHost().get(Qwen2Weights.EMBED_TOKENS).data()) {
                assertEquals(0, Float.floatToIntBits(value) & 0xFFFF);
            }
        }
    }
}
