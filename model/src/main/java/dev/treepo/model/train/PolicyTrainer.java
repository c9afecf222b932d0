package dev.treepo.model.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Model;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Trains a Qwen2 policy with supervised next-token steps or PPO-style RL steps.
 *
 * <p>The trainer owns the policy weights (marked as requiring gradients), an {@link AdamW}
 * optimizer and an optional frozen reference model for the KL term, and closes them all. Every
 * forward pass runs in its own sub-manager and {@link NDScope}, so no array outlives its step
 * except the weights and the optimizer moments.
 *
 * <p>Methods are synchronized, because DJL's PyTorch engine allows one open
 * {@link GradientCollector} per JVM: run at most one trainer step at a time in a process.
 */
public final class PolicyTrainer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyTrainer.class);

    private final Qwen2Weights policyWeights;
    private final Qwen2Model policy;
    private final Qwen2Weights referenceWeights;
    private final Qwen2Model reference;
    private final AdamW optimizer;
    private final PolicyLoss policyLoss;
    private final int padId;
    private final int validVocab;
    private final NDManager stepManager;

    /**
     * Creates a trainer that takes ownership of the given weights.
     *
     * @param policyWeights weights to train; marked as requiring gradients
     * @param referenceWeights frozen weights for the KL term, or null. They are required when the
     *     policy loss has a positive KL coefficient, and otherwise only report the KL.
     * @param padId id used to right-pad batches, below the model's vocabulary size
     * @throws IllegalArgumentException if the configs differ, the pad id is out of range, or a KL
     *     coefficient is set without reference weights
     */
    public PolicyTrainer(Qwen2Weights policyWeights, Qwen2Weights referenceWeights, int padId, TrainerSettings settings) {
        this(policyWeights, referenceWeights, padId, policyWeights.config().vocabSize(), settings);
    }

    /**
     * Creates a trainer whose policy gives zero probability to ids at or above {@code validVocab}:
     * padded embedding rows beyond the tokenizer's vocabulary, which the sampler never draws. The
     * trained distribution is then exactly the one rollouts sample from.
     */
    public PolicyTrainer(
            Qwen2Weights policyWeights, Qwen2Weights referenceWeights, int padId, int validVocab, TrainerSettings settings) {
        Qwen2Config config = policyWeights.config();
        if (referenceWeights != null && !referenceWeights.config().equals(config)) {
            throw new IllegalArgumentException("Reference weights were built for " + referenceWeights.config()
                    + " but the policy config is " + config + ".");
        }
        if (referenceWeights == null && settings.policyLoss().klCoef() > 0) {
            throw new IllegalArgumentException("The policy loss has klCoef " + settings.policyLoss().klCoef()
                    + " but no reference weights were given; pass them or set klCoef to 0.");
        }
        if (padId < 0 || padId >= config.vocabSize()) {
            throw new IllegalArgumentException("Invalid pad id " + padId + ": expected a value in [0, "
                    + config.vocabSize() + ").");
        }

        this.policyWeights = policyWeights;
        this.policy = new Qwen2Model(config, policyWeights);
        this.referenceWeights = referenceWeights;
        this.reference = referenceWeights == null ? null : new Qwen2Model(config, referenceWeights);
        this.policyLoss = settings.policyLoss();
        this.padId = padId;
        if (validVocab < 1 || validVocab > config.vocabSize()) {
            throw new IllegalArgumentException("Invalid valid-vocabulary size " + validVocab + ": expected a value in [1, "
                    + config.vocabSize() + "].");
        }
        this.validVocab = validVocab;
        this.optimizer = new AdamW(settings.learningRate(), settings.weightDecay(), settings.maxGradNorm());
        for (NDArray param : policyWeights.parameters().values()) {
            param.setRequiresGradient(true);
        }
        this.stepManager = NDManager.newBaseManager(policyWeights.embedTokens().getDevice());
    }

    public Qwen2Config config() {
        return policy.config();
    }

    /** Number of optimizer updates applied so far, including restored ones. */
    public synchronized long stepCount() {
        return optimizer.stepCount();
    }

    public synchronized void setLearningRate(double learningRate) {
        optimizer.setLearningRate(learningRate);
    }

    /**
     * Runs one supervised step: next-token cross-entropy on the response tokens (weighted by the
     * loss mask), averaged over trained tokens, then one optimizer update. Advantages are ignored.
     */
    public synchronized SftStats sftStep(List<TrainSequence> batch) {
        TrainBatch.validate(batch, config().vocabSize());
        AdamW.zeroGradients(policyWeights.parameters());
        try (NDManager manager = stepManager.newSubManager(); NDScope scope = new NDScope()) {
            TrainBatch packed = TrainBatch.of(batch, padId, config().vocabSize());
            NDArray mask = packed.mask(manager);
            NDArray tokens = mask.sum();
            NDArray loss;
            try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
                NDArray logits = policy.forward(packed.inputIds(manager));
                NDArray logprobs = TokenLogprobs.of(maskPaddedIds(logits), packed.targets(manager));
                loss = logprobs.mul(mask).sum().neg().div(tokens.maximum(1f));
                collector.backward(loss);
            }
            double gradNorm = optimizer.step(policyWeights.parameters());
            SftStats stats = new SftStats(loss.getFloat(), gradNorm, tokens.getFloat());
            LOG.debug("SFT step {}: {}", optimizer.stepCount(), stats);
            return stats;
        }
    }

    /**
     * Runs one RL step. First the log-probabilities of every sequence under the current policy
     * (the "old" policy that PPO ratios refer to) and, with a reference model, under the reference
     * are computed without gradients. Then the batch is split into {@code miniBatches} contiguous
     * parts of near-equal size, and each part gets one forward, backward and optimizer update with
     * {@link PolicyLoss}, the sequence's advantage applied to each of its response tokens.
     *
     * @param miniBatches number of optimizer updates, in [1, batch.size()]
     */
    public synchronized RlStats rlStep(List<TrainSequence> batch, int miniBatches) {
        TrainBatch.validate(batch, config().vocabSize());
        if (miniBatches < 1 || miniBatches > batch.size()) {
            throw new IllegalArgumentException("Invalid miniBatches " + miniBatches + ": expected a value in [1, "
                    + batch.size() + "] for a batch of " + batch.size() + " sequences.");
        }
        List<List<TrainSequence>> parts = split(batch, miniBatches);
        List<float[]> oldLogprobs = new ArrayList<>();
        List<float[]> referenceLogprobs = reference == null ? null : new ArrayList<>();
        for (List<TrainSequence> part : parts) {
            oldLogprobs.addAll(targetLogprobs(policy, part));
            if (reference != null) {
                referenceLogprobs.addAll(targetLogprobs(reference, part));
            }
        }

        double loss = 0;
        double clipFraction = 0;
        double dualClipFraction = 0;
        double gradNorm = 0;
        double approxKl = 0;
        double referenceKl = 0;
        double tokens = 0;
        int applied = 0;
        int skipped = 0;
        int start = 0;
        for (List<TrainSequence> part : parts) {
            List<float[]> partOld = oldLogprobs.subList(start, start + part.size());
            List<float[]> partReference = referenceLogprobs == null
                    ? null : referenceLogprobs.subList(start, start + part.size());
            start += part.size();

            AdamW.zeroGradients(policyWeights.parameters());
            try (NDManager manager = stepManager.newSubManager(); NDScope scope = new NDScope()) {
                TrainBatch packed = TrainBatch.of(part, padId, config().vocabSize());
                PolicyLossResult result;
                try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
                    NDArray logits = policy.forward(packed.inputIds(manager));
                    NDArray logprobs = TokenLogprobs.of(maskPaddedIds(logits), packed.targets(manager));
                    result = policyLoss.compute(
                            logprobs,
                            packed.pack(manager, partOld),
                            packed.advantages(manager),
                            packed.mask(manager),
                            partReference == null ? null : packed.pack(manager, partReference));
                    collector.backward(result.loss());
                }
                double norm = optimizer.step(policyWeights.parameters());
                if (Double.isFinite(norm)) {
                    applied++;
                    gradNorm += norm;
                } else {
                    skipped++;
                }
                loss += result.loss().getFloat();
                clipFraction += result.clipFraction();
                dualClipFraction += result.dualClipFraction();
                approxKl += result.approxKl();
                referenceKl += result.referenceKl();
                tokens += result.tokens();
            }
        }

        int updates = parts.size();
        RlStats stats = new RlStats(
                loss / updates,
                clipFraction / updates,
                dualClipFraction / updates,
                applied == 0 ? Double.NaN : gradNorm / applied,
                approxKl / updates,
                referenceKl / updates,
                tokens,
                applied,
                skipped);
        LOG.debug("RL step ending at optimizer step {}: {}", optimizer.stepCount(), stats);
        return stats;
    }

    /**
     * Returns the current policy's log-probability of each response token, without gradients:
     * one array of {@code responseLength()} values per sequence.
     */
    public synchronized List<float[]> responseLogprobs(List<TrainSequence> batch) {
        TrainBatch.validate(batch, config().vocabSize());
        List<float[]> targets = targetLogprobs(policy, batch);
        List<float[]> responses = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            TrainSequence sequence = batch.get(i);
            float[] all = targets.get(i);
            float[] response = new float[sequence.responseLength()];
            // Target position j predicts token j + 1, so the first response token is at promptLength - 1.
            System.arraycopy(all, sequence.promptLength() - 1, response, 0, response.length);
            responses.add(response);
        }
        return responses;
    }

    /** Returns each sequence's total log-probability of its response tokens, without gradients. */
    public synchronized double[] sequenceLogprobs(List<TrainSequence> batch) {
        List<float[]> responses = responseLogprobs(batch);
        double[] totals = new double[responses.size()];
        for (int i = 0; i < totals.length; i++) {
            for (float logprob : responses.get(i)) {
                totals[i] += logprob;
            }
        }
        return totals;
    }

    /** Copies the policy weights to the host, for publishing to inference workers or saving. */
    public synchronized SortedMap<String, HostTensor> weights() {
        return policyWeights.toHost();
    }

    /** Overwrites the policy weights in place, for resuming from a checkpoint. */
    public synchronized void loadWeights(Map<String, HostTensor> tensors) {
        try (NoGradScope noGrad = new NoGradScope()) {
            policyWeights.copyFrom(tensors);
        }
    }

    /** Copies the optimizer moments and step count to the host, as {@link AdamW#exportState()} does. */
    public synchronized SortedMap<String, HostTensor> optimizerState() {
        return optimizer.exportState();
    }

    /** Starts the optimizer afresh: zero moments and step count, the learning rate kept. */
    public synchronized void resetOptimizer() {
        optimizer.reset();
    }

    /** Restores optimizer state saved by {@link #optimizerState()} for the same model. */
    public synchronized void loadOptimizerState(Map<String, HostTensor> state) {
        optimizer.importState(state, policyWeights.parameters());
    }

    @Override
    public synchronized void close() {
        optimizer.close();
        stepManager.close();
        policyWeights.close();
        if (referenceWeights != null) {
            referenceWeights.close();
        }
    }

    /**
     * Returns the log-probability of every target position (tokens.length - 1 values per
     * sequence) under {@code model}, without building an autograd graph.
     */
    private List<float[]> targetLogprobs(Qwen2Model model, List<TrainSequence> sequences) {
        try (NoGradScope noGrad = new NoGradScope();
                NDManager manager = stepManager.newSubManager();
                NDScope scope = new NDScope()) {
            TrainBatch packed = TrainBatch.of(sequences, padId, config().vocabSize());
            NDArray logits = model.forward(packed.inputIds(manager));
            NDArray logprobs = TokenLogprobs.of(maskPaddedIds(logits), packed.targets(manager));
            return packed.unpack(logprobs.toFloatArray());
        }
    }

    /** Adds a large negative bias to the logits of ids at or above validVocab, so they get no mass. */
    private NDArray maskPaddedIds(NDArray logits) {
        int vocab = config().vocabSize();
        if (validVocab == vocab) {
            return logits;
        }
        float[] bias = new float[vocab];
        java.util.Arrays.fill(bias, validVocab, vocab, -1e9f);
        return logits.add(logits.getManager().create(bias));
    }

    /** Splits the batch into {@code parts} contiguous lists whose sizes differ by at most one. */
    private static List<List<TrainSequence>> split(List<TrainSequence> batch, int parts) {
        List<List<TrainSequence>> result = new ArrayList<>(parts);
        for (int i = 0; i < parts; i++) {
            int from = (int) ((long) i * batch.size() / parts);
            int to = (int) ((long) (i + 1) * batch.size() / parts);
            result.add(batch.subList(from, to));
        }
        return result;
    }
}
