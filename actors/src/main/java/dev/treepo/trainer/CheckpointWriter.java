package dev.treepo.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.config.GenerationConfig;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes checkpoint folders in the Hugging Face layout ({@code config.json}, {@code model.safetensors}
 * or shards with {@code model.safetensors.index.json}, {@code tokenizer.json}, and the source model's
 * {@code tokenizer_config.json} and {@code generation_config.json} when it has them) plus what
 * resuming and evaluating need: {@code optimizer.safetensors}, {@code trainer_state.json} and the
 * run's effective configuration {@value #RUN_CONFIG_FILE}. A folder is written under a temporary name
 * and renamed at the end, so a crash never leaves a half-written checkpoint under the final name.
 */
public final class CheckpointWriter {

    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String STATE_FILE = "trainer_state.json";
    public static final String TOKENIZER_FILE = "tokenizer.json";
    /** Effective configuration of the run that wrote the checkpoint, in HOCON rooted at {@code treepo}. */
    public static final String RUN_CONFIG_FILE = "treepo_run.conf";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Qwen2Config config;
    private final Path tokenizerJson;
    private final CheckpointFiles.SaveOptions options;
    private final List<Integer> stopIds;
    private final String runConfig;

    /** Creates a writer of F32 weights with the default shard limit and no run configuration. */
    public CheckpointWriter(Qwen2Config config, Path tokenizerJson) {
        this(config, tokenizerJson, CheckpointFiles.SaveOptions.DEFAULT, List.of(), null);
    }

    /**
     * Creates a writer.
     *
     * @param tokenizerJson the tokenizer file, copied as {@value #TOKENIZER_FILE}; the tokenizer and
     *     generation files beside it are copied too
     * @param options dtype and shard limit of the weights
     * @param stopIds the ids decoding stops on, written as {@code eos_token_id} of a new {@code
     *     generation_config.json} when the source folder has none; empty writes none
     * @param runConfig the run's effective configuration, written to {@value #RUN_CONFIG_FILE}, or
     *     null for none
     */
    public CheckpointWriter(Qwen2Config config, Path tokenizerJson, CheckpointFiles.SaveOptions options,
            List<Integer> stopIds, String runConfig) {
        this.config = Objects.requireNonNull(config, "config");
        this.tokenizerJson = Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        this.options = Objects.requireNonNull(options, "options");
        this.stopIds = List.copyOf(stopIds);
        this.runConfig = runConfig;
    }

    /** Writes {@code weights} (and optimizer state, when not null) to {@code dir}, replacing it. */
    public void save(Path dir, PolicyWeights weights, Map<String, HostTensor> optimizerState, int step) {
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp");
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            CheckpointFiles.saveModel(tmp, config, weights.tensors(), options);
            Path sourceDir = tokenizerJson.toAbsolutePath().getParent();
            CheckpointFiles.copyTokenizerAndGenerationFiles(sourceDir, tmp);
            Files.copy(tokenizerJson, tmp.resolve(TOKENIZER_FILE), StandardCopyOption.REPLACE_EXISTING);
            Path generationConfig = tmp.resolve(GenerationConfig.FILE_NAME);
            if (!Files.exists(generationConfig) && !stopIds.isEmpty()) {
                new GenerationConfig(stopIds).write(generationConfig);
            }
            if (runConfig != null) {
                Files.writeString(tmp.resolve(RUN_CONFIG_FILE), runConfig, StandardCharsets.UTF_8);
            }
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
