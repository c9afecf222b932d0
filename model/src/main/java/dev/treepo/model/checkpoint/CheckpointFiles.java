package dev.treepo.model.checkpoint;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.safetensors.SafetensorsDtype;
import dev.treepo.model.safetensors.SafetensorsReader;
import dev.treepo.model.safetensors.SafetensorsWriter;
import dev.treepo.model.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Model and optimizer checkpoints as files that Hugging Face tools read. A model folder contains
 * {@code config.json} and either {@code model.safetensors} or, above the shard size limit,
 * {@code model-0000K-of-0000N.safetensors} shards with {@code model.safetensors.index.json}
 * (Hugging Face names, F32 unless asked for BF16). Optimizer state is a single F32 safetensors file
 * with any names.
 */
public final class CheckpointFiles {

    public static final String CONFIG_FILE = "config.json";

    /**
     * Default shard size limit in bytes: transformers' {@code max_shard_size="5GB"}, where GB
     * means 10^9 bytes.
     */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

    /**
     * Files of a Hugging Face model folder that describe the tokenizer and generation rather than
     * the weights. A checkpoint copies the ones its source folder has, so that transformers and
     * vLLM load it with the same tokenizer, chat template and stop tokens.
     */
    public static final List<String> TOKENIZER_AND_GENERATION_FILES = List.of(
            "tokenizer.json",
            "tokenizer_config.json",
            "special_tokens_map.json",
            "added_tokens.json",
            "vocab.json",
            "merges.txt",
            "generation_config.json");

    /**
     * Storage type and shard size limit of a saved model.
     *
     * @param dtype element type on disk, F32 or BF16
     * @param maxShardBytes largest shard in bytes of tensor data, as transformers' {@code
     *     max_shard_size}; a tensor larger than this gets a shard of its own
     */
    public record SaveOptions(SafetensorsDtype dtype, long maxShardBytes) {

        /** F32 in shards of at most {@link #DEFAULT_MAX_SHARD_BYTES}. */
        public static final SaveOptions DEFAULT =
                new SaveOptions(SafetensorsDtype.F32, DEFAULT_MAX_SHARD_BYTES);

        /** @throws IllegalArgumentException if the dtype is F16 or the limit is not positive */
        public SaveOptions {
            if (dtype == SafetensorsDtype.F16) {
                throw new IllegalArgumentException(
                        "Cannot save a model as F16: only F32 and BF16 are written");
            }
            if (maxShardBytes <= 0) {
                throw new IllegalArgumentException("Invalid max shard size " + maxShardBytes
                        + " bytes: it must be positive");
            }
        }
    }

    private CheckpointFiles() {}

    /** Saves the model as F32 with the default shard limit, as the overload with options does. */
    public static void saveModel(Path dir, Qwen2Config config, Map<String, HostTensor> weights)
            throws IOException {
        saveModel(dir, config, weights, SaveOptions.DEFAULT);
    }

    /**
     * Writes {@code config.json} and the weights into {@code dir}, creating it: one {@code
     * model.safetensors} when the tensors fit in one shard of {@code options.maxShardBytes()},
     * otherwise shards and an index as {@link ShardPlan} describes. Weight files of an earlier save
     * in {@code dir} are deleted first, so a stale index never shadows the new weights. A tied
     * model's {@code lm_head.weight} is left out, because transformers rebuilds it from the
     * embedding.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing or has a shape the
     *     config does not allow
     */
    public static void saveModel(Path dir, Qwen2Config config, Map<String, HostTensor> weights,
            SaveOptions options) throws IOException {
        SortedMap<String, long[]> expected = Qwen2Weights.expectedShapes(config);
        Map<String, HostTensor> tensors = new TreeMap<>();
        for (Map.Entry<String, long[]> entry : expected.entrySet()) {
            HostTensor tensor = weights.get(entry.getKey());
            if (tensor == null || !tensor.hasShape(entry.getValue())) {
                throw new IllegalArgumentException("Cannot save model to " + dir + ": tensor "
                        + entry.getKey() + " is " + (tensor == null ? "missing"
                                : "of shape " + Arrays.toString(tensor.shape()))
                        + ", the config needs " + Arrays.toString(entry.getValue()));
            }
            tensors.put(entry.getKey(), tensor);
        }

        LinkedHashMap<String, Long> bytesByName = new LinkedHashMap<>();
        for (String name : moduleOrder(config)) {
            bytesByName.put(name, (long) options.dtype().bytes() * tensors.get(name).numel());
        }
        ShardPlan plan = ShardPlan.split(bytesByName, options.maxShardBytes());

        Files.createDirectories(dir);
        deleteWeightFiles(dir);
        for (int i = 0; i < plan.shards().size(); i++) {
            Map<String, HostTensor> shard = new TreeMap<>();
            for (String name : plan.shards().get(i)) {
                shard.put(name, tensors.get(name));
            }
            SafetensorsWriter.write(dir.resolve(plan.fileName(i)), shard, Map.of(), options.dtype());
        }
        // The index goes last: a reader that finds it can rely on every shard being complete.
        if (plan.isSharded()) {
            plan.writeIndex(dir);
        }
        config.write(dir.resolve(CONFIG_FILE), options.dtype().torchName());
    }

    /**
     * Returns the parameter names in the order transformers' {@code Qwen2ForCausalLM.state_dict()}
     * lists them: the embedding, each layer (attention q, k, v, o, then the MLP, then the two
     * norms), the final norm, and the LM head when untied.
     */
    static List<String> moduleOrder(Qwen2Config config) {
        List<String> names = new ArrayList<>();
        names.add(Qwen2Weights.EMBED_TOKENS);
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String prefix = "model.layers." + i + ".";
            for (String projection : new String[] {"q_proj", "k_proj", "v_proj"}) {
                names.add(prefix + "self_attn." + projection + ".weight");
                names.add(prefix + "self_attn." + projection + ".bias");
            }
            names.add(prefix + "self_attn.o_proj.weight");
            names.add(prefix + "mlp.gate_proj.weight");
            names.add(prefix + "mlp.up_proj.weight");
            names.add(prefix + "mlp.down_proj.weight");
            names.add(prefix + "input_layernorm.weight");
            names.add(prefix + "post_attention_layernorm.weight");
        }
        names.add(Qwen2Weights.FINAL_NORM);
        if (!config.tieWordEmbeddings()) {
            names.add(Qwen2Weights.LM_HEAD);
        }
        return names;
    }

    /** Deletes {@code model.safetensors}, the shard index and files named like shards. */
    private static void deleteWeightFiles(Path dir) throws IOException {
        Files.deleteIfExists(dir.resolve(SafetensorsReader.INDEX_FILE));
        Files.deleteIfExists(dir.resolve(SafetensorsReader.MODEL_FILE));
        try (DirectoryStream<Path> shards =
                Files.newDirectoryStream(dir, "model-*-of-*.safetensors")) {
            for (Path shard : shards) {
                Files.delete(shard);
            }
        }
    }

    /**
     * Copies the {@link #TOKENIZER_AND_GENERATION_FILES} that {@code sourceDir} has into {@code
     * targetDir}, replacing files of the same name, and returns the names copied.
     */
    public static List<String> copyTokenizerAndGenerationFiles(Path sourceDir, Path targetDir)
            throws IOException {
        List<String> copied = new ArrayList<>();
        for (String name : TOKENIZER_AND_GENERATION_FILES) {
            Path source = sourceDir.resolve(name);
            if (Files.isRegularFile(source)) {
                Files.copy(source, targetDir.resolve(name),
                        StandardCopyOption.REPLACE_EXISTING);
                copied.add(name);
            }
        }
        return copied;
    }

    /** Reads the weights of a model folder (single file or shards), widened to float32. */
    public static SortedMap<String, HostTensor> loadModel(Path dir) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.openModel(dir)) {
            return reader.readAll();
        }
    }

    /** Reads the config of a model folder. */
    public static Qwen2Config loadConfig(Path dir) throws IOException {
        return Qwen2Config.read(dir.resolve(CONFIG_FILE));
    }

    /** Writes arbitrary named tensors, such as optimizer moments, to one F32 safetensors file. */
    public static void saveTensors(Path file, Map<String, HostTensor> tensors) throws IOException {
        SafetensorsWriter.write(file, tensors);
    }

    /** Reads every tensor of one safetensors file. */
    public static SortedMap<String, HostTensor> loadTensors(Path file) throws IOException {
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            return reader.readAll();
        }
    }
}
