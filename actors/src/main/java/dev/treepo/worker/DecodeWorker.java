package dev.treepo.worker;

import dev.treepo.model.engine.DecodeEngine;
import dev.treepo.model.sampling.SampledToken;
import dev.treepo.model.sampling.Sampler;
import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.policy.PolicyWeights;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Owns one model replica and its prefix-sharing KV cache on one device, and decodes the segments
 * that tree nodes request.
 *
 * <p>Continuous batching: every pending segment of every tree advances by one token in the same
 * forward pass. A request that arrives while a step runs joins at the next step, because the actor
 * sends itself {@link Step} after each step and the mailbox is FIFO. A request is admitted only when
 * the KV cache has blocks for its context and its new tokens. Until then it waits in arrival order,
 * so a full cache pushes back instead of failing.
 *
 * <p>KV sequences are kept per (tree, node) until {@link ReleaseTree}, so a child segment or a
 * fallback regrowth forks from its source node's cache and recomputes nothing that is shared.
 * Weights arriving with {@link LoadWeights} are swapped in only between steps with no segment in
 * flight, so a KV block is never reused across policy versions.
 *
 * <p>All tensor work blocks, so spawn this actor on its own dispatcher.
 */
public final class DecodeWorker extends AbstractBehavior<DecodeWorker.Command> {

    /** Messages a worker accepts. */
    public sealed interface Command {}

    /** Receptionist key under which an inference node registers its workers. */
    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "treepo-decode-worker");

    /**
     * Decodes one segment of at most {@code maxNewTokens} tokens for node {@code nodeId} of tree
     * {@code treeId}. Its context is the first {@code keepTokens} tokens of the parent node's context
     * followed by {@code appendTokens}; a root ({@code parentNodeId == -1}) starts from
     * {@code appendTokens} alone. Decoding stops early at EOS.
     */
    public record DecodeSegment(
            long treeId,
            int nodeId,
            int parentNodeId,
            int keepTokens,
            int[] appendTokens,
            int maxNewTokens,
            SamplingParams sampling,
            long seed,
            ActorRef<SegmentReply> replyTo)
            implements Command {}

    /** Frees every KV sequence of a finished tree. */
    public record ReleaseTree(long treeId) implements Command {}

    /**
     * Replaces the model weights once no segment is in flight, then replies. With {@code keepKv}
     * false the worker first drops the KV of every tree it still holds, so KV computed by an older
     * version never serves a newer one; true keeps it, trading exactness for reuse.
     */
    public record LoadWeights(PolicyWeights weights, boolean keepKv, ActorRef<WeightsLoaded> replyTo)
            implements Command {

        /** Loads weights and drops the KV of older versions. */
        public LoadWeights(PolicyWeights weights, ActorRef<WeightsLoaded> replyTo) {
            this(weights, false, replyTo);
        }
    }

    /** Reports counters since the worker started. */
    public record GetStats(ActorRef<WorkerStats> replyTo) implements Command {}

    private enum Step implements Command {
        INSTANCE
    }

    /** Outcome of a {@link DecodeSegment} request. */
    public sealed interface SegmentReply {}

    /**
     * A decoded segment: its tokens, the log-prob of each under the sampling distribution, whether it
     * ended with EOS (the EOS token is included), the policy version that produced it, and the tokens
     * this request ran through the model (prefill of uncached context plus decode).
     */
    public record SegmentDecoded(
            long treeId,
            int nodeId,
            int[] tokens,
            float[] logprobs,
            boolean endedWithEos,
            long policyVersion,
            int tokensForwarded,
            String workerId)
            implements SegmentReply {}

    /** A request that cannot be served, with the reason. */
    public record SegmentFailed(long treeId, int nodeId, String reason) implements SegmentReply {}

    public record WeightsLoaded(String workerId, long version) {}

    public record WorkerStats(
            String workerId,
            long segmentsServed,
            long decodeSteps,
            long tokensForwarded,
            int usedBlocks,
            int freeBlocks,
            long policyVersion) {}

    /**
     * Builds a worker that stops a segment at {@code eosId}, or only at its token limit when
     * {@code eosId} is negative.
     */
    public static Behavior<Command> create(
            String workerId, DecodeEngine engine, int validVocab, int eosId, int maxBatch) {
        return create(workerId, engine, validVocab, eosId < 0 ? new int[0] : new int[] {eosId}, maxBatch);
    }

    /**
     * Builds a worker around an engine it owns from now on; {@code validVocab} bounds sampled ids, and
     * a segment stops at the first sampled id in {@code stopIds} (reported as {@code endedWithEos}).
     */
    public static Behavior<Command> create(
            String workerId, DecodeEngine engine, int validVocab, int[] stopIds, int maxBatch) {
        int[] sortedStopIds = Arrays.stream(stopIds).distinct().sorted().toArray();
        return Behaviors.setup(context ->
                new DecodeWorker(context, workerId, engine, validVocab, sortedStopIds, maxBatch));
    }

    private final String workerId;
    private final DecodeEngine engine;
    private final int validVocab;
    /** Sorted ids that end a segment: EOS and any other stop token. */
    private final int[] stopIds;
    private final int maxBatch;

    private final ArrayDeque<DecodeSegment> waiting = new ArrayDeque<>();
    private final List<ActiveSegment> active = new ArrayList<>();
    private final Map<Long, Map<Integer, Integer>> sequencesByTree = new HashMap<>();
    private final ArrayDeque<LoadWeights> pendingWeights = new ArrayDeque<>();
    private boolean stepScheduled;
    private long policyVersion = -1;
    private long segmentsServed;
    private long decodeSteps;

    private DecodeWorker(
            ActorContext<Command> context, String workerId, DecodeEngine engine, int validVocab, int[] stopIds,
            int maxBatch) {
        super(context);
        this.workerId = workerId;
        this.engine = engine;
        this.validVocab = validVocab;
        this.stopIds = stopIds;
        this.maxBatch = maxBatch;
        context.getLog().info("Worker {} started (max batch {}, {} free KV blocks)", workerId, maxBatch, engine.freeBlocks());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(DecodeSegment.class, this::onDecodeSegment)
                .onMessage(ReleaseTree.class, this::onReleaseTree)
                .onMessage(LoadWeights.class, this::onLoadWeights)
                .onMessage(GetStats.class, this::onGetStats)
                .onMessageEquals(Step.INSTANCE, this::onStep)
                .onSignal(PostStop.class, signal -> onPostStop())
                .build();
    }

    private Behavior<Command> onDecodeSegment(DecodeSegment request) {
        if (policyVersion < 0) {
            request.replyTo().tell(new SegmentFailed(request.treeId(), request.nodeId(),
                    "worker " + workerId + " has no weights yet; send LoadWeights first"));
            return this;
        }
        waiting.add(request);
        scheduleStep();
        return this;
    }

    private Behavior<Command> onReleaseTree(ReleaseTree release) {
        // Segments of the tree that are still queued or decoding are dropped without a reply: the tree
        // root that sends this has stopped waiting for them.
        waiting.removeIf(request -> request.treeId() == release.treeId());
        active.removeIf(segment -> segment.request.treeId() == release.treeId());
        Map<Integer, Integer> sequences = sequencesByTree.remove(release.treeId());
        if (sequences != null) {
            for (int seq : sequences.values()) {
                engine.release(seq);
            }
        }
        scheduleStep();
        return this;
    }

    private Behavior<Command> onLoadWeights(LoadWeights load) {
        pendingWeights.add(load);
        applyWeightsIfIdle();
        return this;
    }

    private Behavior<Command> onGetStats(GetStats request) {
        request.replyTo().tell(new WorkerStats(workerId, segmentsServed, decodeSteps, engine.tokensForwarded(),
                engine.blocks().usedBlocks(), engine.freeBlocks(), policyVersion));
        return this;
    }

    private Behavior<Command> onStep() {
        stepScheduled = false;
        admitWaiting();
        if (active.isEmpty()) {
            applyWeightsIfIdle();
            return this;
        }

        int[] seqs = new int[active.size()];
        for (int i = 0; i < seqs.length; i++) {
            ActiveSegment segment = active.get(i);
            seqs[i] = segment.seq;
            segment.tokensForwarded += engine.length(segment.seq) - engine.cachedLength(segment.seq);
        }
        float[][] logits = engine.step(seqs);
        decodeSteps++;

        Iterator<ActiveSegment> it = active.iterator();
        int row = 0;
        while (it.hasNext()) {
            ActiveSegment segment = it.next();
            SampledToken token = Sampler.sample(logits[row++], validVocab, segment.request.sampling(), segment.rng);
            segment.add(token);
            engine.append(segment.seq, new int[] {token.id()});
            boolean eos = Arrays.binarySearch(stopIds, token.id()) >= 0;
            if (eos || segment.count == segment.request.maxNewTokens()) {
                it.remove();
                reply(segment, eos);
            }
        }
        scheduleStep();
        return this;
    }

    private void admitWaiting() {
        while (!waiting.isEmpty() && active.size() < maxBatch) {
            DecodeSegment request = waiting.peek();
            Integer parentSeq = null;
            if (request.parentNodeId() >= 0) {
                Map<Integer, Integer> treeSequences = sequencesByTree.get(request.treeId());
                parentSeq = treeSequences == null ? null : treeSequences.get(request.parentNodeId());
                if (parentSeq == null) {
                    waiting.poll();
                    fail(request, "unknown parent node " + request.parentNodeId() + " of tree " + request.treeId()
                            + " (its KV was released or never decoded here)");
                    continue;
                }
                if (request.keepTokens() < 1 || request.keepTokens() > engine.length(parentSeq)) {
                    waiting.poll();
                    fail(request, "keepTokens " + request.keepTokens() + " outside 1.." + engine.length(parentSeq));
                    continue;
                }
            }
            int newTokens = request.appendTokens().length + request.maxNewTokens() + 1;
            if (blocksFor(newTokens) > engine.freeBlocks() - blocksCommittedToActive()) {
                if (active.isEmpty() && sequencesByTree.isEmpty()) {
                    waiting.poll();
                    fail(request, "the KV cache is too small for one segment of " + newTokens
                            + " tokens; raise inference.kv.blocks");
                    continue;
                }
                // Back-pressure: wait until finished trees release their blocks.
                return;
            }
            waiting.poll();
            active.add(new ActiveSegment(request, openSequence(request, parentSeq)));
        }
    }

    /**
     * Returns the blocks that active segments may still take: each may write its remaining tokens
     * and start in a fresh block where its first block is shared.
     */
    private int blocksCommittedToActive() {
        int blocks = 0;
        for (ActiveSegment segment : active) {
            int pending = engine.length(segment.seq) - engine.cachedLength(segment.seq);
            blocks += blocksFor(pending + segment.request.maxNewTokens() - segment.count);
        }
        return blocks;
    }

    /** Returns the worst-case blocks for {@code tokens} new tokens, one extra for an unaligned start. */
    private int blocksFor(int tokens) {
        int blockTokens = engine.blocks().blockTokens();
        return (tokens + blockTokens - 1) / blockTokens + 1;
    }

    private int openSequence(DecodeSegment request, Integer parentSeq) {
        int seq;
        if (parentSeq == null) {
            seq = engine.newSequence(request.appendTokens());
        } else {
            int keep = request.keepTokens();
            if (request.appendTokens().length == 0 && engine.cachedLength(parentSeq) >= keep) {
                // Everything is cached, but sampling needs the logits of the last kept position:
                // share one token less and run that token again.
                int last = engine.tokens(parentSeq)[keep - 1];
                seq = engine.forkAt(parentSeq, keep - 1);
                engine.append(seq, new int[] {last});
            } else {
                seq = engine.forkAt(parentSeq, keep);
                if (request.appendTokens().length > 0) {
                    engine.append(seq, request.appendTokens());
                }
            }
        }
        sequencesOf(request.treeId()).put(request.nodeId(), seq);
        return seq;
    }

    private Map<Integer, Integer> sequencesOf(long treeId) {
        return sequencesByTree.computeIfAbsent(treeId, id -> new HashMap<>());
    }

    private void reply(ActiveSegment segment, boolean eos) {
        segmentsServed++;
        DecodeSegment request = segment.request;
        request.replyTo().tell(new SegmentDecoded(request.treeId(), request.nodeId(),
                Arrays.copyOf(segment.tokens, segment.count), Arrays.copyOf(segment.logprobs, segment.count),
                eos, policyVersion, segment.tokensForwarded, workerId));
    }

    private void fail(DecodeSegment request, String reason) {
        getContext().getLog().error("Worker {} rejected segment {} of tree {}: {}",
                workerId, request.nodeId(), request.treeId(), reason);
        request.replyTo().tell(new SegmentFailed(request.treeId(), request.nodeId(), reason));
    }

    private void applyWeightsIfIdle() {
        if (pendingWeights.isEmpty() || !active.isEmpty() || !waiting.isEmpty()) {
            return;
        }
        // KV computed under an older version must not serve a newer one, so live trees are dropped here
        // unless the load allows reuse. Callers load weights between rollouts, when no tree is live.
        LoadWeights load = pendingWeights.pollLast();
        if (!sequencesByTree.isEmpty() && !load.keepKv()) {
            getContext().getLog().warn("Worker {} drops the KV of {} live trees before loading new weights",
                    workerId, sequencesByTree.size());
            for (Map<Integer, Integer> sequences : sequencesByTree.values()) {
                sequences.values().forEach(engine::release);
            }
            sequencesByTree.clear();
        }
        long start = System.nanoTime();
        engine.loadWeights(load.weights().tensors());
        policyVersion = load.weights().version();
        getContext().getLog().info("Worker {} loaded policy version {} in {} ms",
                workerId, policyVersion, (System.nanoTime() - start) / 1_000_000);
        // Older loads that were still queued are superseded; acknowledge them with the version in use.
        while (!pendingWeights.isEmpty()) {
            pendingWeights.poll().replyTo().tell(new WeightsLoaded(workerId, policyVersion));
        }
        load.replyTo().tell(new WeightsLoaded(workerId, policyVersion));
    }

    private void scheduleStep() {
        if (!stepScheduled && (!waiting.isEmpty() || !active.isEmpty())) {
            stepScheduled = true;
            getContext().getSelf().tell(Step.INSTANCE);
        }
    }

    private Behavior<Command> onPostStop() {
        getContext().getLog().info("Worker {} stopped after {} segments and {} decode steps",
                workerId, segmentsServed, decodeSteps);
        engine.close();
        return this;
    }

    /** A segment being decoded: the request, its KV sequence and what it has sampled so far. */
    private static final class ActiveSegment {
        final DecodeSegment request;
        final int seq;
        final SplittableRandom rng;
        final int[] tokens;
        final float[] logprobs;
        int count;
        int tokensForwarded;

        ActiveSegment(DecodeSegment request, int seq) {
            this.request = request;
            this.seq = seq;
            this.rng = new SplittableRandom(request.seed());
            this.tokens = new int[request.maxNewTokens()];
            this.logprobs = new float[request.maxNewTokens()];
        }

        void add(SampledToken token) {
            tokens[count] = token.id();
            logprobs[count] = token.logprob();
            count++;
        }
    }
}
