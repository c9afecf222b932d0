package dev.treepo.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.safetensors.SafetensorsDtype;
import dev.treepo.model.safetensors.SafetensorsReader;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.testing.RandomWeights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

class ShardedCheckpointTest {

    private static final long MAX_SHARD_BYTES = 20_000;

    @TempDir
    Path dir;

    private static List<String> weightFiles(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(path -> path.getFileName().toString())
                    .filter(name -> name.contains("safetensors"))
                    .sorted()
                    .toList();
        }
    }

    @Test
    void largeModelIsShardedAndLoadsBack() throws IOException {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> weights = RandomWeights.host(config, 3);
        CheckpointFiles.saveModel(dir, config, weights,
                new CheckpointFiles.SaveOptions(SafetensorsDtype.F32, MAX_SHARD_BYTES));

        List<String> files = weightFiles(dir);
        assertTrue(files.contains("model.safetensors.index.json"), files.toString());
        assertFalse(files.contains("model.safetensors"), files.toString());
        assertEquals(weights, CheckpointFiles.loadModel(dir));

        JsonNode index = new ObjectMapper().readTree(dir.resolve("model.safetensors.index.json").toFile());
        long expectedTotal = weights.values().stream().mapToLong(t -> 4L * t.numel()).sum();
        assertEquals(expectedTotal, index.path("metadata").path("total_size").asLong());
        assertEquals(weights.size(), index.path("weight_map").size());
        int shards = files.size() - 1;
        for (int i = 1; i <= shards; i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i, shards);
            assertTrue(files.contains(name), files + " lacks " + name);
        }
    }

    @Test
    void shardsFollowModuleOrderUnderTheLimit() throws IOException {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> weights = RandomWeights.host(config, 3);
        CheckpointFiles.saveModel(dir, config, weights,
                new CheckpointFiles.SaveOptions(SafetensorsDtype.F32, MAX_SHARD_BYTES));
        JsonNode weightMap = new ObjectMapper()
                .readTree(dir.resolve("model.safetensors.index.json").toFile()).path("weight_map");

        List<String> order = CheckpointFiles.moduleOrder(config);
        Map<String, Long> shardBytes = new TreeMap<>();
        String previousShard = "";
        for (String name : order) {
            String shard = weightMap.path(name).asText();
            assertTrue(shard.compareTo(previousShard) >= 0,
                    name + " is in " + shard + " after a tensor in " + previousShard);
            previousShard = shard;
            shardBytes.merge(shard, 4L * weights.get(name).numel(), Long::sum);
        }
        for (Map.Entry<String, Long> shard : shardBytes.entrySet()) {
            assertTrue(shard.getValue() <= MAX_SHARD_BYTES, shard.toString());
        }
        // Greedy packing: the first tensor of each shard did not fit into the shard before it.
        List<String> names = new ArrayList<>(shardBytes.keySet());
        for (int i = 0; i + 1 < names.size(); i++) {
            String next = names.get(i + 1);
            String firstOfNext = order.stream().filter(n -> weightMap.path(n).asText().equals(next))
                    .findFirst().orElseThrow();
            long firstBytes = 4L * weights.get(firstOfNext).numel();
            assertTrue(shardBytes.get(names.get(i)) + firstBytes > MAX_SHARD_BYTES, names.get(i));
        }
    }

    @Test
    void resaveReplacesShardsWithSingleFile() throws IOException {
        Qwen2Config config = RandomWeights.smallConfig();
        CheckpointFiles.saveModel(dir, config, RandomWeights.host(config, 3),
                new CheckpointFiles.SaveOptions(SafetensorsDtype.F32, MAX_SHARD_BYTES));
        SortedMap<String, HostTensor> second = RandomWeights.host(config, 4);
        CheckpointFiles.saveModel(dir, config, second);

        assertEquals(List.of("model.safetensors"), weightFiles(dir));
        assertEquals(second, CheckpointFiles.loadModel(dir));
    }

    @Test
    void bf16SaveRoundsToNearest() throws IOException {
        Qwen2Config config = RandomWeights.smallConfig();
        SortedMap<String, HostTensor> weights = RandomWeights.host(config, 5);
        CheckpointFiles.saveModel(dir, config, weights,
                new CheckpointFiles.SaveOptions(SafetensorsDtype.BF16, MAX_SHARD_BYTES));

        JsonNode configJson = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("bfloat16", configJson.path("torch_dtype").asText());
        try (SafetensorsReader reader = SafetensorsReader.openModel(dir)) {
            assertEquals(SafetensorsDtype.BF16, reader.entry("model.embed_tokens.weight").dtype());
        }
        SortedMap<String, HostTensor> loaded = CheckpointFiles.loadModel(dir);
        Iterator<String> names = weights.keySet().iterator();
        while (names.hasNext()) {
            String name = names.next();
            float[] original = weights.get(name).data();
            float[] rounded = loaded.get(name).data();
            for (int i = 0; i < original.length; i++) {
                // BF16 stores 7 mantissa bits, so rounding to nearest errs by at most half a unit in
                // the last place: 2^-8 of the value.
                float error = Math.abs(original[i] - rounded[i]);
                assertTrue(error <= Math.abs(original[i]) * 0x1p-8f, name + "[" + i + "]: " + original[i]
                        + " became " + rounded[i]);
            }
        }
    }

    @Test
    void tokenizerAndGenerationFilesAreCopied() throws IOException {
        Path source = Files.createDirectories(dir.resolve("source"));
        Path target = Files.createDirectories(dir.resolve("target"));
        Files.writeString(source.resolve("tokenizer.json"), "{}");
        Files.writeString(source.resolve("generation_config.json"), "{\"eos_token_id\": 2}");
        Files.writeString(source.resolve("optimizer.safetensors"), "not copied");

        List<String> copied = CheckpointFiles.copyTokenizerAndGenerationFiles(source, target);

        assertEquals(List.of("tokenizer.json", "generation_config.json"), copied);
        assertEquals("{\"eos_token_id\": 2}", Files.readString(target.resolve("generation_config.json")));
        assertFalse(Files.exists(target.resolve("optimizer.safetensors")));
    }
}
