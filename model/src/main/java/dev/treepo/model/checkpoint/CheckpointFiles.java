package dev.treepo.model.checkpoint;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.safetensors.SafetensorsReader;
import dev.treepo.model.safetensors.SafetensorsWriter;
import dev.treepo.model.tensor.HostTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Model and optimizer checkpoints as files that Hugging Face tools read. A model folder contains
 * {@code config.json} and {@code model.safetensors} (F32, Hugging Face names), and optimizer state is
 * a single safetensors file with any names.
 */
public final class CheckpointFiles {

    public static final String CONFIG_FILE = "config.json";

    private CheckpointFiles() {}

    /**
     * Writes {@code config.json} and {@code model.safetensors} into {@code dir}, creating it. A
     * tied model's {@code lm_head.weight} is left out, because transformers rebuilds it from the
     * embedding.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing or has a shape the
     *     config does not allow
     */
    public static void saveModel(Path dir, Qwen2Config config, Map<String, HostTensor> weights)
            throws IOException {
        SortedMap<String, long[]> expected = Qwen2Weights.expectedShapes(config);
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
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
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(SafetensorsReader.MODEL_FILE), tensors);
        config.write(dir.resolve(CONFIG_FILE));
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
