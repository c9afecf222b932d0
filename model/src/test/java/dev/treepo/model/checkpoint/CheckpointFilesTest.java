package dev.treepo.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.testing.RandomWeights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

class CheckpointFilesTest {

    @TempDir
    Path dir;

    @Test
    void modelRoundTripsThroughFolder() throws IOException {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> weights = RandomWeights.host(config, 4);
        Path model = dir.resolve("step-10");
        CheckpointFiles.saveModel(model, config, weights);

        assertTrue(Files.exists(model.resolve("config.json")));
        assertTrue(Files.exists(model.resolve("model.safetensors")));
        assertEquals(config, CheckpointFiles.loadConfig(model));
        assertEquals(weights, CheckpointFiles.loadModel(model));
        try (NDManager manager = NDManager.newBaseManager();
                Qwen2Weights loaded = Qwen2Weights.load(model, manager)) {
            assertEquals(weights, loaded.toHost());
        }
    }

    @Test
    void tiedModelIsSavedWithoutLmHead() throws IOException {
        Qwen2Config config = Qwen2Config.tiny(20);
        SortedMap<String, HostTensor> weights = RandomWeights.host(config, 4);
        SortedMap<String, HostTensor> withHead = new TreeMap<>(weights);
        withHead.put("lm_head.weight", weights.get("model.embed_tokens.weight"));
        CheckpointFiles.saveModel(dir, config, withHead);
        SortedMap<String, HostTensor> loaded = CheckpointFiles.loadModel(dir);
        assertFalse(loaded.containsKey("lm_head.weight"));
        assertEquals(weights, loaded);
    }

    @Test
    void saveRejectsWeightsNotMatchingConfig() {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> weights = RandomWeights.host(config, 4);
        weights.put("model.embed_tokens.weight", HostTensor.zeros(65, 32));
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> CheckpointFiles.saveModel(dir, config, weights));
        assertTrue(error.getMessage().contains("model.embed_tokens.weight is of shape [65, 32]"),
                error.getMessage());
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
    }

    @Test
    void optimizerStateRoundTrips() throws IOException {
        Map<String, HostTensor> state = Map.of(
                "adam.m.model.norm.weight", new HostTensor(new long[] {2}, new float[] {1, 2}),
                "adam.step", new HostTensor(new long[0], new float[] {3}));
        Path file = dir.resolve("optimizer.safetensors");
        CheckpointFiles.saveTensors(file, state);
        assertEquals(state, CheckpointFiles.loadTensors(file));
    }
}
