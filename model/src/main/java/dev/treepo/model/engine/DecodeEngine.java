package dev.treepo.model.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.kv.KvBlockManager;
import dev.treepo.model.kv.KvCache;
import dev.treepo.model.kv.KvCacheFullException;
import dev.treepo.model.nn.KvSource;
import dev.treepo.model.nn.Qwen2Model;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Batched autoregressive inference over many sequences that share prompt and branch prefixes
 * through a paged KV cache: the inference side of a rollout worker.
 *
 * <p>A sequence is an int handle with a token list whose first {@link #cachedLength} tokens have
 * their keys and values in the cache, and the rest are pending. {@link #step} runs one forward pass
 * over the pending tokens of several sequences at once and returns each sequence's next-token
 * logits. {@link #forkAt} starts a branch that shares the parent's cached prefix without copying
 * it (see {@link KvBlockManager}). Each token's rotary position is its absolute index in its own
 * sequence, so a branch continues at the parent's position.
 *
 * <p>Letters in shape comments: B sequences in the step, P max pending tokens, S max total length,
 * D hidden size, V vocabulary.
 *
 * <p>Not thread-safe: one actor owns an engine and calls it from one thread at a time.
 */
public final class DecodeEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeEngine.class);

    private final Qwen2Config config;
    private final NDManager manager;
    private final KvBlockManager blocks;
    private final KvCache cache;
    private final Map<Integer, SequenceState> sequences = new HashMap<>();
    private Qwen2Weights weights;
    private Qwen2Model model;
    private long tokensForwarded;

    /** Token list of one sequence; the first {@code cached} tokens are in the KV cache. */
    private static final class SequenceState {
        int[] tokens;
        int length;
        int cached;

        SequenceState(int[] tokens, int length, int cached) {
            this.tokens = tokens;
            this.length = length;
            this.cached = cached;
        }

        void append(int[] more) {
            if (length + more.length > tokens.length) {
                tokens = Arrays.copyOf(tokens, Math.max(length + more.length, tokens.length * 2));
            }
            System.arraycopy(more, 0, tokens, length, more.length);
            length += more.length;
        }

        int pending() {
            return length - cached;
        }
    }

    /**
     * Creates an engine with an empty cache of {@code numBlocks * blockTokens} slots. Call {@link
     * #loadWeights} before the first {@link #step}.
     */
    public DecodeEngine(Qwen2Config config, Device device, int blockTokens, int numBlocks) {
        this.config = config;
        this.blocks = new KvBlockManager(blockTokens, numBlocks);
        this.manager = NDManager.newBaseManager(device);
        this.cache = new KvCache(manager, config, blocks.totalSlots());
        LOG.info("Decode engine on {}: {} KV blocks of {} tokens ({} MiB)", device, numBlocks,
                blockTokens, cache.bytes() >> 20);
    }

    public Qwen2Config config() {
        return config;
    }

    /**
     * Replaces all weights, copying into the existing arrays after the first call.
     *
     * <p>Live sequences keep the keys and values that the old weights computed, so their next
     * logits mix both policies. Callers that need exact on-policy logits release every sequence
     * first.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing or has a shape the
     *     config does not allow
     */
    public void loadWeights(Map<String, HostTensor> tensors) {
        if (weights == null) {
            weights = Qwen2Weights.fromHost(config, manager, tensors);
            model = new Qwen2Model(config, weights);
        } else {
            weights.copyFrom(tensors);
        }
        if (!sequences.isEmpty()) {
            LOG.debug("Loaded new weights while {} sequences are live; their cached keys and "
                    + "values come from the previous weights", sequences.size());
        }
    }

    /** Starts a sequence whose tokens are all pending. */
    public int newSequence(int[] tokens) {
        checkTokens(tokens);
        int seq = blocks.newSequence();
        sequences.put(seq, new SequenceState(tokens.clone(), tokens.length, 0));
        return seq;
    }

    /**
     * Starts a branch whose tokens are the first {@code keepTokens} tokens of {@code parent}. The
     * cached part of that prefix is shared with the parent, and the rest is pending in the child.
     *
     * @throws IllegalArgumentException if {@code keepTokens} is negative or exceeds the parent's
     *     length
     */
    public int forkAt(int parent, int keepTokens) {
        SequenceState state = state(parent);
        if (keepTokens < 0 || keepTokens > state.length) {
            throw new IllegalArgumentException("Invalid fork of sequence " + parent + " at "
                    + keepTokens + " tokens: it has " + state.length + " tokens");
        }
        int shared = Math.min(keepTokens, state.cached);
        int child = blocks.forkAt(parent, shared);
        int[] tokens = Arrays.copyOf(state.tokens, Math.max(keepTokens, 16));
        sequences.put(child, new SequenceState(tokens, keepTokens, shared));
        return child;
    }

    /** Adds pending tokens to {@code seq}, for example the token just sampled. */
    public void append(int seq, int[] tokens) {
        SequenceState state = state(seq);
        checkTokens(tokens);
        state.append(tokens);
    }

    /**
     * Runs one batched forward pass over all pending tokens of {@code seqs}, stores their keys and
     * values, and returns the logits after each sequence's last token.
     *
     * <p>Sequences may differ in cached length and pending count: the batch is right-padded to
     * the largest pending count, padded positions write to the cache's padding slot, and the
     * attention mask lets each token see only its own sequence's earlier tokens.
     *
     * @param seqs distinct live sequences, each with at least one pending token
     * @return {@code float[V]} logits per sequence, in the order of {@code seqs}
     * @throws KvCacheFullException if the pool lacks blocks for the pending tokens, in which
     *     case no state changes
     */
    public float[][] step(int[] seqs) {
        if (model == null) {
            throw new IllegalStateException("No weights loaded; call loadWeights before step");
        }
        if (seqs.length == 0) {
            throw new IllegalArgumentException("step needs at least one sequence");
        }
        SequenceState[] states = new SequenceState[seqs.length];
        int[] pending = new int[seqs.length];
        Set<Integer> seen = new HashSet<>();
        for (int b = 0; b < seqs.length; b++) {
            if (!seen.add(seqs[b])) {
                throw new IllegalArgumentException("Sequence " + seqs[b]
                        + " is listed twice in one step");
            }
            states[b] = state(seqs[b]);
            pending[b] = states[b].pending();
            if (pending[b] < 1) {
                throw new IllegalArgumentException("Sequence " + seqs[b]
                        + " has no pending token; append the sampled token before step");
            }
        }

        blocks.reserveAll(seqs, pending);
        try {
            float[][] logits = forward(seqs, states, pending);
            for (int b = 0; b < seqs.length; b++) {
                states[b].cached = states[b].length;
                tokensForwarded += pending[b];
            }
            return logits;
        } catch (RuntimeException e) {
            // Undo the reservation so the block tables match the cached lengths again.
            for (int b = 0; b < seqs.length; b++) {
                blocks.truncate(seqs[b], states[b].cached);
            }
            throw e;
        }
    }

    /** Number of tokens of {@code seq}, cached and pending. */
    public int length(int seq) {
        return state(seq).length;
    }

    /** Number of leading tokens of {@code seq} whose keys and values are cached. */
    public int cachedLength(int seq) {
        return state(seq).cached;
    }

    /** Returns a copy of all tokens of {@code seq}. */
    public int[] tokens(int seq) {
        SequenceState state = state(seq);
        return Arrays.copyOf(state.tokens, state.length);
    }

    /** Forgets {@code seq} and frees the cache blocks no other sequence shares. */
    public void release(int seq) {
        if (sequences.remove(seq) == null) {
            throw unknownSequence(seq);
        }
        blocks.release(seq);
    }

    /** Total tokens run through the model since creation, prompts and decoded tokens alike. */
    public long tokensForwarded() {
        return tokensForwarded;
    }

    /** Returns whether a new sequence of {@code newTokens} tokens fits in the free blocks. */
    public boolean canAdmit(int newTokens) {
        int needed = (newTokens + blocks.blockTokens() - 1) / blocks.blockTokens();
        return needed <= blocks.freeBlocks();
    }

    public int freeBlocks() {
        return blocks.freeBlocks();
    }

    /** The block allocator, for tests and monitoring; callers must not change it. */
    public KvBlockManager blocks() {
        return blocks;
    }

    /** Arrays held by the engine: weights and cache pools. Stays constant across steps. */
    int liveArrays() {
        return manager.getManagedArrays().size();
    }

    /** Releases weights and cache; the engine is unusable afterwards. */
    @Override
    public void close() {
        sequences.clear();
        manager.close();
    }

    private float[][] forward(int[] seqs, SequenceState[] states, int[] pending) {
        int batch = seqs.length;
        int maxPending = Arrays.stream(pending).max().orElseThrow();
        int maxLength = 0;
        for (SequenceState state : states) {
            maxLength = Math.max(maxLength, state.length);
        }
        int padding = cache.paddingSlot();

        // Inputs on the Java side, right-padded to P pending tokens and S attended positions.
        long[] ids = new long[batch * maxPending];
        int[] positions = new int[batch * maxPending];
        long[] writeSlots = new long[batch * maxPending];
        long[] readSlots = new long[batch * maxLength];
        float[] mask = new float[batch * maxPending * maxLength];
        long[] lastRows = new long[batch];
        Arrays.fill(writeSlots, padding);
        Arrays.fill(readSlots, padding);
        Arrays.fill(mask, Float.NEGATIVE_INFINITY);
        for (int b = 0; b < batch; b++) {
            SequenceState state = states[b];
            int[] slots = blocks.slots(seqs[b]);
            for (int s = 0; s < state.length; s++) {
                readSlots[b * maxLength + s] = slots[s];
            }
            for (int p = 0; p < maxPending; p++) {
                int row = b * maxPending + p;
                // A padded query row repeats the last real token's view, which keeps its softmax
                // finite. Its output is discarded.
                int position = state.cached + Math.min(p, pending[b] - 1);
                if (p < pending[b]) {
                    ids[row] = state.tokens[position];
                    writeSlots[row] = slots[position];
                }
                positions[row] = position;
                Arrays.fill(mask, row * maxLength, row * maxLength + position + 1, 0f);
            }
            lastRows[b] = (long) b * maxPending + pending[b] - 1;
        }

        try (NDManager step = manager.newSubManager()) {
            NDArray inputIds = step.create(ids, new Shape(batch, maxPending));
            NDArray writeIndex = step.create(writeSlots);
            NDArray readIndex = step.create(readSlots, new Shape(batch, maxLength));
            NDArray attentionMask = step.create(mask, new Shape(batch, 1, 1, maxPending, maxLength));

            // Each layer stores the new keys and values, then reads the whole sequences back.
            KvSource kvSource = (layer, keys, values) -> {
                cache.write(layer, writeIndex, keys, values);
                return cache.gather(layer, readIndex, step);
            };

            // hidden states (B, P, D), then the last real token of each row: (B, D)
            NDArray hidden = model.hiddenStates(inputIds, positions, attentionMask, kvSource);
            NDArray last = hidden.reshape(batch * (long) maxPending, config.hiddenSize())
                    .get(step, new NDIndex("{}", step.create(lastRows)));

            // next-token logits: (B, V)
            float[] flat = model.logits(last).toFloatArray();
            int vocab = config.vocabSize();
            float[][] logits = new float[batch][];
            for (int b = 0; b < batch; b++) {
                logits[b] = Arrays.copyOfRange(flat, b * vocab, (b + 1) * vocab);
            }
            return logits;
        }
    }

    private void checkTokens(int[] tokens) {
        for (int token : tokens) {
            if (token < 0 || token >= config.vocabSize()) {
                throw new IllegalArgumentException("Invalid token id " + token
                        + ": must be in [0, " + config.vocabSize() + ")");
            }
        }
    }

    private SequenceState state(int seq) {
        SequenceState state = sequences.get(seq);
        if (state == null) {
            throw unknownSequence(seq);
        }
        return state;
    }

    private static IllegalArgumentException unknownSequence(int seq) {
        return new IllegalArgumentException("Unknown sequence " + seq
                + ": it was never created or is already released");
    }
}
