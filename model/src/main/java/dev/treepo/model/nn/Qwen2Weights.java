package dev.treepo.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.safetensors.SafetensorsReader;
import dev.treepo.model.tensor.HostTensor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Parameters of a Qwen2 decoder as float32 NDArrays, keyed by their Hugging Face names.
 *
 * <p>The arrays belong to a sub-manager of the manager passed to the factory, and {@link #close}
 * releases them. The trainer marks them {@code setRequiresGradient(true)}, while inference engines keep
 * their own copy without gradients.
 *
 * <p>Letters in shape comments: V vocabulary, D hidden size, H query heads, K KV heads, E head
 * size, I MLP width.
 */
public final class Qwen2Weights implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(Qwen2Weights.class);

    /** Standard deviation of the random init, as transformers' {@code initializer_range}. */
    private static final double INIT_STD = 0.02;

    public static final String EMBED_TOKENS = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";

    /** Parameters of one decoder layer. Biases exist on q/k/v only, as in Qwen2. */
    public record Layer(
            NDArray inputNorm, // (D)
            NDArray qProj, // (H*E, D)
            NDArray qBias, // (H*E)
            NDArray kProj, // (K*E, D)
            NDArray kBias, // (K*E)
            NDArray vProj, // (K*E, D)
            NDArray vBias, // (K*E)
            NDArray oProj, // (D, H*E)
            NDArray postAttentionNorm, // (D)
            NDArray gateProj, // (I, D)
            NDArray upProj, // (I, D)
            NDArray downProj) { // (D, I)
    }

    private final Qwen2Config config;
    private final NDManager manager;
    private final SortedMap<String, NDArray> parameters;
    private final NDArray embedTokens; // (V, D)
    private final NDArray finalNorm; // (D)
    private final NDArray lmHead; // (V, D), the embedding itself when tied
    private final List<Layer> layers;

    private Qwen2Weights(Qwen2Config config, NDManager manager,
            SortedMap<String, NDArray> parameters) {
        this.config = config;
        this.manager = manager;
        this.parameters = Collections.unmodifiableSortedMap(parameters);
        this.embedTokens = parameters.get(EMBED_TOKENS);
        this.finalNorm = parameters.get(FINAL_NORM);
        this.lmHead = config.tieWordEmbeddings() ? embedTokens : parameters.get(LM_HEAD);
        List<Layer> built = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String prefix = layerPrefix(i);
            built.add(new Layer(
                    parameters.get(prefix + "input_layernorm.weight"),
                    parameters.get(prefix + "self_attn.q_proj.weight"),
                    parameters.get(prefix + "self_attn.q_proj.bias"),
                    parameters.get(prefix + "self_attn.k_proj.weight"),
                    parameters.get(prefix + "self_attn.k_proj.bias"),
                    parameters.get(prefix + "self_attn.v_proj.weight"),
                    parameters.get(prefix + "self_attn.v_proj.bias"),
                    parameters.get(prefix + "self_attn.o_proj.weight"),
                    parameters.get(prefix + "post_attention_layernorm.weight"),
                    parameters.get(prefix + "mlp.gate_proj.weight"),
                    parameters.get(prefix + "mlp.up_proj.weight"),
                    parameters.get(prefix + "mlp.down_proj.weight")));
        }
        this.layers = List.copyOf(built);
    }

    /**
     * Returns the Hugging Face name and shape of every parameter the config implies, sorted by
     * name. {@code lm_head.weight} is listed only when the embeddings are untied.
     */
    public static SortedMap<String, long[]> expectedShapes(Qwen2Config config) {
        long vocab = config.vocabSize();
        long hidden = config.hiddenSize();
        long queryWidth = (long) config.numAttentionHeads() * config.headDim();
        long kvWidth = (long) config.numKeyValueHeads() * config.headDim();
        long mlpWidth = config.intermediateSize();

        SortedMap<String, long[]> shapes = new TreeMap<>();
        shapes.put(EMBED_TOKENS, new long[] {vocab, hidden});
        shapes.put(FINAL_NORM, new long[] {hidden});
        if (!config.tieWordEmbeddings()) {
            shapes.put(LM_HEAD, new long[] {vocab, hidden});
        }
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            String prefix = layerPrefix(i);
            shapes.put(prefix + "input_layernorm.weight", new long[] {hidden});
            shapes.put(prefix + "post_attention_layernorm.weight", new long[] {hidden});
            shapes.put(prefix + "self_attn.q_proj.weight", new long[] {queryWidth, hidden});
            shapes.put(prefix + "self_attn.q_proj.bias", new long[] {queryWidth});
            shapes.put(prefix + "self_attn.k_proj.weight", new long[] {kvWidth, hidden});
            shapes.put(prefix + "self_attn.k_proj.bias", new long[] {kvWidth});
            shapes.put(prefix + "self_attn.v_proj.weight", new long[] {kvWidth, hidden});
            shapes.put(prefix + "self_attn.v_proj.bias", new long[] {kvWidth});
            shapes.put(prefix + "self_attn.o_proj.weight", new long[] {hidden, queryWidth});
            shapes.put(prefix + "mlp.gate_proj.weight", new long[] {mlpWidth, hidden});
            shapes.put(prefix + "mlp.up_proj.weight", new long[] {mlpWidth, hidden});
            shapes.put(prefix + "mlp.down_proj.weight", new long[] {hidden, mlpWidth});
        }
        return shapes;
    }

    /**
     * Creates weights for training from scratch, deterministic in {@code seed}: matrices drawn from
     * N(0, 0.02^2) (transformers' default {@code initializer_range}), biases 0, norm weights 1.
     */
    public static Qwen2Weights random(Qwen2Config config, NDManager manager, long seed) {
        Random random = new Random(seed);
        SortedMap<String, HostTensor> host = new TreeMap<>();
        for (Map.Entry<String, long[]> entry : expectedShapes(config).entrySet()) {
            String name = entry.getKey();
            HostTensor tensor = HostTensor.zeros(entry.getValue());
            float[] data = tensor.data();
            if (name.endsWith("norm.weight")) {
                Arrays.fill(data, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) (random.nextGaussian() * INIT_STD);
                }
            }
            host.put(name, tensor);
        }
        return fromHost(config, manager, host);
    }

    /**
     * Copies host tensors into new NDArrays owned by a sub-manager of {@code manager}.
     *
     * <p>Every name of {@link #expectedShapes} must be present with that shape. A tied
     * checkpoint's redundant {@code lm_head.weight} is ignored, as transformers does. Other unknown
     * names are ignored with a warning.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing or has another shape
     */
    public static Qwen2Weights fromHost(Qwen2Config config, NDManager manager,
            Map<String, HostTensor> tensors) {
        SortedMap<String, long[]> expected = expectedShapes(config);
        checkNamesAndShapes(expected, tensors);

        NDManager owner = manager.newSubManager();
        SortedMap<String, NDArray> parameters = new TreeMap<>();
        try {
            for (Map.Entry<String, long[]> entry : expected.entrySet()) {
                HostTensor tensor = tensors.get(entry.getKey());
                NDArray array = owner.create(tensor.data(), new Shape(tensor.shape()));
                array.setName(entry.getKey());
                parameters.put(entry.getKey(), array);
            }
        } catch (RuntimeException e) {
            owner.close();
            throw e;
        }
        return new Qwen2Weights(config, owner, parameters);
    }

    /**
     * Loads a Hugging Face Qwen2 folder: {@code config.json} plus {@code model.safetensors} or the
     * shards of {@code model.safetensors.index.json}. F16 and BF16 weights are widened to float32.
     */
    public static Qwen2Weights load(Path dir, NDManager manager) throws IOException {
        Qwen2Config config = Qwen2Config.read(dir.resolve("config.json"));
        SortedMap<String, HostTensor> tensors;
        try (SafetensorsReader reader = SafetensorsReader.openModel(dir)) {
            tensors = reader.readAll();
        }
        LOG.info("Loaded {} tensors of a Qwen2 model with {} layers from {}",
                tensors.size(), config.numHiddenLayers(), dir);
        return fromHost(config, manager, tensors);
    }

    public Qwen2Config config() {
        return config;
    }

    /** Returns all parameters by Hugging Face name. A tied LM head is not listed separately. */
    public SortedMap<String, NDArray> parameters() {
        return parameters;
    }

    /** Embedding matrix, (V, D). */
    public NDArray embedTokens() {
        return embedTokens;
    }

    /** Weight of the final RMSNorm, (D). */
    public NDArray finalNorm() {
        return finalNorm;
    }

    /** LM head, (V, D); the same array as {@link #embedTokens} when the embeddings are tied. */
    public NDArray lmHead() {
        return lmHead;
    }

    /** Decoder layers, first to last. */
    public List<Layer> layers() {
        return layers;
    }

    /** Copies every parameter to the Java heap, keyed by name and sorted. */
    public SortedMap<String, HostTensor> toHost() {
        SortedMap<String, HostTensor> host = new TreeMap<>();
        for (Map.Entry<String, NDArray> entry : parameters.entrySet()) {
            NDArray array = entry.getValue();
            host.put(entry.getKey(), new HostTensor(array.getShape().getShape(),
                    array.toFloatArray()));
        }
        return host;
    }

    /**
     * Overwrites every parameter in place with {@code tensors}, keeping the arrays (and any
     * gradient flag) so that references held elsewhere see the new values.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing or has another
     *     shape, in which case nothing is written
     */
    public void copyFrom(Map<String, HostTensor> tensors) {
        SortedMap<String, long[]> expected = expectedShapes(config);
        checkNamesAndShapes(expected, tensors);
        for (Map.Entry<String, NDArray> entry : parameters.entrySet()) {
            entry.getValue().set(tensors.get(entry.getKey()).data());
        }
    }

    /** Releases the parameter arrays. */
    @Override
    public void close() {
        manager.close();
    }

    private static String layerPrefix(int layer) {
        return "model.layers." + layer + ".";
    }

    private static void checkNamesAndShapes(SortedMap<String, long[]> expected,
            Map<String, HostTensor> tensors) {
        for (Map.Entry<String, long[]> entry : expected.entrySet()) {
            HostTensor tensor = tensors.get(entry.getKey());
            if (tensor == null) {
                throw new IllegalArgumentException("Missing tensor " + entry.getKey()
                        + " with shape " + Arrays.toString(entry.getValue())
                        + "; the weights do not match the model config");
            }
            if (!tensor.hasShape(entry.getValue())) {
                throw new IllegalArgumentException("Shape mismatch for tensor " + entry.getKey()
                        + ": got " + Arrays.toString(tensor.shape()) + ", the model config needs "
                        + Arrays.toString(entry.getValue()));
            }
        }
        TreeSet<String> unknown = new TreeSet<>(tensors.keySet());
        unknown.removeAll(expected.keySet());
        unknown.remove(LM_HEAD);
        if (!unknown.isEmpty()) {
            List<String> shown = unknown.stream().limit(5).toList();
            LOG.warn("Ignoring {} tensors that a Qwen2 model with this config does not use: {}{}",
                    unknown.size(), shown, unknown.size() > shown.size() ? " ..." : "");
        }
    }
}
