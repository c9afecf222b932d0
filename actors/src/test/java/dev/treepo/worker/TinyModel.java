package dev.treepo.worker;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.engine.DecodeEngine;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.model.tokenizer.CharVocabulary;
import dev.treepo.model.tokenizer.HfTokenizer;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.policy.PolicyWeights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedMap;

/** A very small random Qwen2 model with the built-in character tokenizer, for actor tests. */
public final class TinyModel {

    public static final Qwen2Config CONFIG = new Qwen2Config(
            128, 32, 64, 2, 4, 2, 10_000.0, 1e-6, 512, true, -1, CharVocabulary.EOS_ID);

    private TinyModel() {}

    public static SortedMap<String, HostTensor> randomWeights(long seed) {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Qwen2Weights weights = Qwen2Weights.random(CONFIG, manager, seed)) {
            return weights.toHost();
        }
    }

    public static PolicyWeights policy(long version, long seed) {
        return new PolicyWeights(version, randomWeights(seed));
    }

    public static DecodeEngine engine(int blocks) {
        return new DecodeEngine(CONFIG, Device.cpu(), 16, blocks);
    }

    public static Tokenizer tokenizer() {
        try {
            Path dir = Files.createTempDirectory("treepo-tokenizer");
            return new HfTokenizer(CharVocabulary.writeTokenizerJson(dir.resolve("tokenizer.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
