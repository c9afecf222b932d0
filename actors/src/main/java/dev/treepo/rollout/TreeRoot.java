package dev.treepo.rollout;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.tree.PromptTree;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.PromptTree.SegmentRequest;
import dev.treepo.tree.PromptTree.SegmentResult;
import dev.treepo.tree.Scenario;
import dev.treepo.tree.TreeConfig;
import dev.treepo.tree.TreeStats;
import dev.treepo.worker.DecodeWorker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Supervisor of one prompt's tree: spawns a {@link SegmentNode} per segment of the current level,
 * waits for the whole level, lets {@link PromptTree} decide finishes, branching and fallback, and
 * spawns the next level. When the tree has its N leaves it reports them, asks the worker to free
 * the tree's KV sequences, and stops.
 */
public final class TreeRoot extends AbstractBehavior<TreeRoot.Command> {

    /** Messages a tree root accepts; nodes send them. */
    public sealed interface Command {}

    public record NodeDecoded(SegmentResult result, int tokensForwarded, long policyVersion, String workerId)
            implements Command {}

    public record NodeFailed(int nodeId, String reason) implements Command {}

    /** Report a tree root sends to the actor that started it. */
    public sealed interface Outcome {
        long treeId();

        int promptIndex();
    }

    /**
     * A complete tree: exactly N leaves, the tree's counters, the tokens its segments ran through
     * the model, the oldest policy version that produced any of its segments, the workers that
     * served it, and the policy version that decoded each node, by node id.
     */
    public record TreeFinished(
            long treeId,
            int promptIndex,
            List<Leaf> leaves,
            TreeStats stats,
            long tokensForwarded,
            long oldestPolicyVersion,
            Set<String> workers,
            Map<Integer, Long> nodeVersions)
            implements Outcome {

        /** Returns the policy version of each segment of {@code leaf}, root first; -1 where unknown. */
        public long[] segmentVersions(Leaf leaf) {
            long[] versions = new long[leaf.nodePath().length];
            for (int i = 0; i < versions.length; i++) {
                versions[i] = nodeVersions.getOrDefault(leaf.nodePath()[i], -1L);
            }
            return versions;
        }
    }

    public record TreeFailed(long treeId, int promptIndex, String reason) implements Outcome {}

    public static Behavior<Command> create(
            long treeId,
            int promptIndex,
            int[] promptTokens,
            TreeConfig config,
            Scenario scenario,
            SamplingParams sampling,
            long seed,
            ActorRef<DecodeWorker.Command> worker,
            Tokenizer tokenizer,
            ActorRef<Outcome> replyTo) {
        return Behaviors.setup(context -> new TreeRoot(context, treeId, promptIndex, promptTokens, config, scenario,
                sampling, seed, worker, tokenizer, replyTo));
    }

    private final long treeId;
    private final int promptIndex;
    private final SamplingParams sampling;
    private final long seed;
    private final ActorRef<DecodeWorker.Command> worker;
    private final Tokenizer tokenizer;
    private final ActorRef<Outcome> replyTo;
    private final PromptTree tree;
    private final List<SegmentResult> levelResults = new ArrayList<>();
    private final Set<String> workers = new HashSet<>();
    private final Map<Integer, Long> nodeVersions = new HashMap<>();
    private int levelSize;
    private long tokensForwarded;
    private long oldestPolicyVersion = Long.MAX_VALUE;

    private TreeRoot(
            ActorContext<Command> context,
            long treeId,
            int promptIndex,
            int[] promptTokens,
            TreeConfig config,
            Scenario scenario,
            SamplingParams sampling,
            long seed,
            ActorRef<DecodeWorker.Command> worker,
            Tokenizer tokenizer,
            ActorRef<Outcome> replyTo) {
        super(context);
        this.treeId = treeId;
        this.promptIndex = promptIndex;
        this.sampling = sampling;
        this.seed = seed;
        this.worker = worker;
        this.tokenizer = tokenizer;
        this.replyTo = replyTo;
        this.tree = new PromptTree(promptIndex, promptTokens, config, scenario, new SplittableRandom(seed), tokenizer::decode);
        spawnLevel(tree.start());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(NodeDecoded.class, this::onNodeDecoded)
                .onMessage(NodeFailed.class, this::onNodeFailed)
                .build();
    }

    private Behavior<Command> onNodeDecoded(NodeDecoded decoded) {
        levelResults.add(decoded.result());
        tokensForwarded += decoded.tokensForwarded();
        oldestPolicyVersion = Math.min(oldestPolicyVersion, decoded.policyVersion());
        nodeVersions.put(decoded.result().nodeId(), decoded.policyVersion());
        workers.add(decoded.workerId());
        if (levelResults.size() < levelSize) {
            return this;
        }
        List<SegmentRequest> next = tree.onLevelDecoded(List.copyOf(levelResults));
        levelResults.clear();
        if (!next.isEmpty()) {
            spawnLevel(next);
            return this;
        }
        worker.tell(new DecodeWorker.ReleaseTree(treeId));
        replyTo.tell(new TreeFinished(treeId, promptIndex, tree.leaves(), tree.stats(), tokensForwarded,
                oldestPolicyVersion, Set.copyOf(workers), Map.copyOf(nodeVersions)));
        return Behaviors.stopped();
    }

    private Behavior<Command> onNodeFailed(NodeFailed failed) {
        getContext().getLog().error("Tree {} (prompt {}) failed at node {}: {}",
                treeId, promptIndex, failed.nodeId(), failed.reason());
        worker.tell(new DecodeWorker.ReleaseTree(treeId));
        replyTo.tell(new TreeFailed(treeId, promptIndex, "node " + failed.nodeId() + ": " + failed.reason()));
        return Behaviors.stopped();
    }

    private void spawnLevel(List<SegmentRequest> requests) {
        levelSize = requests.size();
        for (SegmentRequest request : requests) {
            long nodeSeed = mix(seed, request.nodeId());
            getContext().spawnAnonymous(
                    SegmentNode.create(treeId, request, sampling, nodeSeed, worker, tokenizer, getContext().getSelf()));
        }
    }

    /** Derives a node's sampling seed from the tree seed, so a rollout does not depend on batching. */
    static long mix(long seed, int nodeId) {
        long z = seed + 0x9E3779B97F4A7C15L * (nodeId + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
