package dev.treepo.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes checkpoint folders in the Hugging Face layout ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}) plus what resuming needs: {@code optimizer.safetensors} and
 * {@code trainer_state.json}. A folder is written under a temporary name and renamed at the end, so
 * a crash never leaves a half-written checkpoint under the final name.
 */
public final class CheckpointWriter {

    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Qwen2Config config;
    private final Path tokenizerJson;

    public CheckpointWriter(Qwen2Config config, Path tokenizerJson) {
        this.config = config;
        this.tokenizerJson = tokenizerJson;
    }

    /** Writes {@code weights} (and optimizer state, when not null) to {@code dir}, replacing it. */
    public void save(Path dir, PolicyWeights weights, Map<String, HostTensor> optimizerState, int step) {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            CheckpointFiles.saveModel(tmp, config, weights.tensors());
            Files.copy(tokenizerJson, tmp.resolve(TOKENIZER_FILE), StandardCopyOption.REPLACE_EXISTING);
            if (optimizerState != null) {
                CheckpointFiles.saveTensors(tmp.resolve(OPTIMIZER_FILE), optimizerState);
            }
            Map<String, Object> state = new LinkedHashMap<>();
            state.put("step", step);
            state.put("policy_version", weights.version());
            JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.resolve(STATE_FILE).toFile(), state);
            deleteRecursively(dir);
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to write checkpoint " + dir, e);
        }
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (var walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
