package dev.treepo.cluster.runtime;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.config.GenerationConfig;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.tokenizer.CharVocabulary;
import dev.treepo.model.tokenizer.HfTokenizer;
import dev.treepo.model.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The starting model of a run: its config, tokenizer, weights and, when it is a checkpoint of an
 * earlier run, the optimizer state and policy version it was saved with.
 *
 * @param tokenizerJson   the tokenizer file, copied into every checkpoint
 * @param generation      the folder's {@code generation_config.json}, or empty when it has none (always
 *                        empty for the preset)
 * @param fromCheckpoint  true when loaded from a folder; false for the freshly initialised preset
 */
public record ModelSource(
        Qwen2Config config,
        Tokenizer tokenizer,
        Path tokenizerJson,
        Optional<GenerationConfig> generation,
        SortedMap<String, HostTensor> weights,
        SortedMap<String, HostTensor> optimizerState,
        long policyVersion,
        boolean fromCheckpoint) {

    /** Vocabulary rows of the tiny preset: the character vocabulary padded to a multiple of 64. */
    public static final int TINY_VOCAB_ROWS = 128;

    /**
     * Builds the {@code tiny} preset with random weights from {@code seed}, writing its tokenizer.json
     * into {@code workDir}.
     */
    public static ModelSource tiny(long seed, Path workDir) throws IOException {
        Files.createDirectories(workDir);
        Path tokenizerJson = CharVocabulary.writeTokenizerJson(workDir.resolve("tokenizer.json"));
        Tokenizer tokenizer = new HfTokenizer(tokenizerJson);
        Qwen2Config config = Qwen2Config.tiny(TINY_VOCAB_ROWS);
        SortedMap<String, HostTensor> weights;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Qwen2Weights random = Qwen2Weights.random(config, manager, seed)) {
            weights = random.toHost();
        }
        return new ModelSource(config, tokenizer, tokenizerJson, Optional.empty(), weights, null, 0, false);
    }

    /**
     * Loads a Hugging Face style folder ({@code config.json}, {@code *.safetensors},
     * {@code tokenizer.json}, and {@code generation_config.json} when present), plus
     * {@code optimizer.safetensors} and {@code trainer_state.json} when the folder is a TreePO-J
     * checkpoint.
     *
     * @throws IOException naming the file when one cannot be read or is not valid JSON
     * @throws IllegalArgumentException naming the file when a field is invalid, such as an {@code
     *     eos_token_id} of {@code generation_config.json} outside the tokenizer's vocabulary
     */
    public static ModelSource load(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(dir.toString(), null, "model folder not found; set model.path to a folder "
                    + "with config.json, *.safetensors and tokenizer.json");
        }
        Path configJson = dir.resolve("config.json");
        Path tokenizerJson = dir.resolve("tokenizer.json");
        for (Path required : new Path[] {configJson, tokenizerJson}) {
            if (!Files.isRegularFile(required)) {
                throw new NoSuchFileException(required.toString(), null, "missing file in model folder " + dir
                        + "; copy the model's " + required.getFileName() + " there (a model folder needs config.json, "
                        + "*.safetensors and tokenizer.json)");
            }
        }
        Qwen2Config config = Qwen2Config.read(configJson);
        Tokenizer tokenizer = new HfTokenizer(tokenizerJson);
        if (tokenizer.vocabSize() > config.vocabSize()) {
            throw new IOException("tokenizer " + tokenizerJson + " has " + tokenizer.vocabSize()
                    + " tokens but " + configJson + " declares vocab_size " + config.vocabSize());
        }
        Optional<GenerationConfig> generation = GenerationConfig.readIfPresent(dir);
        for (int id : generation.map(GenerationConfig::eosTokenIds).orElse(List.of())) {
            if (id >= tokenizer.vocabSize()) {
                throw new IllegalArgumentException("eos_token_id " + id + " in " + dir.resolve(GenerationConfig.FILE_NAME)
                        + " is outside the vocabulary of " + tokenizer.vocabSize() + " tokens of " + tokenizerJson
                        + "; fix the id or delete the file to stop on the tokenizer's EOS only");
            }
        }
        SortedMap<String, HostTensor> weights = new TreeMap<>(CheckpointFiles.loadModel(dir));
        Path optimizerFile = dir.resolve("optimizer.safetensors");
        SortedMap<String, HostTensor> optimizer = Files.isRegularFile(optimizerFile)
                ? new TreeMap<>(CheckpointFiles.loadTensors(optimizerFile))
                : null;
        long version = TrainerState.readPolicyVersion(dir.resolve("trainer_state.json"));
        return new ModelSource(config, tokenizer, tokenizerJson, generation, weights, optimizer, version, true);
    }
}
