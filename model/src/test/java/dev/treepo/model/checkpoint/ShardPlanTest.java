package dev.treepo.model.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;

class ShardPlanTest {

    @TempDir
    Path dir;

    private static LinkedHashMap<String, Long> sizes(Object... namesAndBytes) {
        LinkedHashMap<String, Long> sizes = new LinkedHashMap<>();
        for (int i = 0; i < namesAndBytes.length; i += 2) {
            sizes.put((String) namesAndBytes[i], ((Number) namesAndBytes[i + 1]).longValue());
        }
        return sizes;
    }

    @Test
    void greedySplitKeepsOrder() {
        ShardPlan plan = ShardPlan.split(sizes("a", 5, "b", 3, "c", 4, "e", 1), 8);
        assertEquals(List.of(List.of("a", "b"), List.of("c", "e")), plan.shards());
        assertEquals(13, plan.totalBytes());
    }

    @Test
    void oversizeTensorGetsOwnShardAtOnce() {
        // As huggingface_hub does: the large tensor is appended as a shard while the open shard
        // keeps collecting, so "e" joins "c" after "d".
        ShardPlan plan = ShardPlan.split(sizes("a", 5, "b", 3, "c", 4, "d", 10, "e", 1), 8);
        assertEquals(List.of(List.of("a", "b"), List.of("d"), List.of("c", "e")), plan.shards());
        assertEquals(23, plan.totalBytes());
    }

    @Test
    void oneShardUsesSingleFileName() {
        ShardPlan plan = ShardPlan.split(sizes("a", 5, "b", 3), 100);
        assertFalse(plan.isSharded());
        assertEquals("model.safetensors", plan.fileName(0));
    }

    @Test
    void shardNamesHaveFiveDigits() {
        ShardPlan plan = ShardPlan.split(sizes("a", 5, "b", 5, "c", 5), 5);
        assertTrue(plan.isSharded());
        assertEquals("model-00001-of-00003.safetensors", plan.fileName(0));
        assertEquals("model-00003-of-00003.safetensors", plan.fileName(2));
    }

    @Test
    void indexMatchesPythonJsonDumps() throws IOException {
        ShardPlan plan = ShardPlan.split(sizes("model.norm.weight", 4, "lm_head.weight", 8), 8);
        plan.writeIndex(dir);
        // json.dumps(index, indent=2, sort_keys=True) + "\n"
        String expected = """
                {
                  "metadata": {
                    "total_size": 12
                  },
                  "weight_map": {
                    "lm_head.weight": "model-00002-of-00002.safetensors",
                    "model.norm.weight": "model-00001-of-00002.safetensors"
                  }
                }
                """;
        assertEquals(expected, Files.readString(dir.resolve("model.safetensors.index.json")));
    }

    @Test
    void nonPositiveLimitIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> ShardPlan.split(sizes("a", 1), 0));
        assertTrue(error.getMessage().contains("max shard size 0"), error.getMessage());
    }
}
