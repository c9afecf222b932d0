package dev.treepo.model.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.treepo.model.safetensors.SafetensorsReader;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Split of a model's tensors into safetensors shards, as transformers' {@code save_pretrained}
 * does with {@code max_shard_size} (through huggingface_hub's {@code
 * split_torch_state_dict_into_shards}).
 *
 * <p>Tensors are taken in module order. A tensor joins the current shard unless that would push
 * the shard past the limit, in which case a new shard starts. A tensor larger than the limit gets
 * a shard of its own. One shard is saved as {@code model.safetensors} without an index. Several
 * are saved as {@code model-00001-of-0000N.safetensors} plus {@code model.safetensors.index.json}
 * with {@code metadata.total_size} (the bytes of all tensors) and {@code weight_map}.
 *
 * @param shards tensor names per shard, in module order
 * @param totalBytes bytes of all tensor data in the stored dtype, without headers
 */
public record ShardPlan(List<List<String>> shards, long totalBytes) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public ShardPlan {
        shards = shards.stream().map(List::copyOf).toList();
    }

    /**
     * Splits tensors of the given sizes, in the iteration order of {@code bytesByName}, into
     * shards of at most {@code maxShardBytes} each, except tensors that alone exceed it.
     *
     * @throws IllegalArgumentException if {@code maxShardBytes} is not positive
     */
    public static ShardPlan split(LinkedHashMap<String, Long> bytesByName, long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException(
                    "Invalid max shard size " + maxShardBytes + " bytes: it must be positive");
        }
        List<List<String>> shards = new ArrayList<>();
        List<String> current = new ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (Map.Entry<String, Long> entry : bytesByName.entrySet()) {
            long bytes = entry.getValue();
            total += bytes;
            if (bytes > maxShardBytes) {
                shards.add(List.of(entry.getKey()));
                continue;
            }
            if (currentBytes + bytes > maxShardBytes && !current.isEmpty()) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(entry.getKey());
            currentBytes += bytes;
        }
        if (!current.isEmpty()) {
            shards.add(current);
        }
        return new ShardPlan(shards, total);
    }

    /** Returns whether the model is saved as several shard files plus an index. */
    public boolean isSharded() {
        return shards.size() > 1;
    }

    /** Returns the file name of shard {@code index} (0-based). */
    public String fileName(int index) {
        if (!isSharded()) {
            return SafetensorsReader.MODEL_FILE;
        }
        return String.format("model-%05d-of-%05d.safetensors", index + 1, shards.size());
    }

    /**
     * Writes {@code model.safetensors.index.json} into {@code dir} as transformers does: {@code
     * json.dumps(index, indent=2, sort_keys=True)} plus a newline, so the weight map is sorted by
     * tensor name.
     */
    public void writeIndex(Path dir) throws IOException {
        SortedMap<String, String> weightMap = new TreeMap<>();
        for (int i = 0; i < shards.size(); i++) {
            for (String name : shards.get(i)) {
                weightMap.put(name, fileName(i));
            }
        }
        StringBuilder text = new StringBuilder();
        text.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalBytes)
                .append("\n  },\n  \"weight_map\": {\n");
        int written = 0;
        for (Map.Entry<String, String> entry : weightMap.entrySet()) {
            text.append("    ").append(JSON.writeValueAsString(entry.getKey())).append(": ")
                    .append(JSON.writeValueAsString(entry.getValue()));
            text.append(++written < weightMap.size() ? ",\n" : "\n");
        }
        text.append("  }\n}\n");

        Path index = dir.resolve(SafetensorsReader.INDEX_FILE);
        Path temporary = Files.createTempFile(dir, ".index-", ".json.tmp");
        try {
            Files.writeString(temporary, text, StandardCharsets.UTF_8);
            Files.move(temporary, index, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
