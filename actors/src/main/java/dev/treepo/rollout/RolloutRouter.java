package dev.treepo.rollout;

import dev.treepo.policy.PolicyWeights;
import dev.treepo.policy.WeightTransport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/**
 * The trainer's view of the inference side: finds {@link InferenceNode}s through the
 * Receptionist, publishes policy versions to them and spreads the trees of each rollout over them.
 *
 * <p>Work pulling: a node grows at most its capacity of trees at a time, and the rest wait here, so a
 * busy node is never flooded and a new node takes work as soon as it has the current weights. A node
 * gets trees only once it has loaded the current policy version. When a node leaves the cluster
 * (stopped, crashed and downed), its unfinished trees are grown again on the other nodes with the
 * same seeds. Publication waits until {@code minNodes} nodes have joined.
 *
 * <p>The same router serves one JVM (one local node, weights shared in memory) and a cluster
 * (nodes on other machines, weights streamed by the cluster's transport).
 */
public final class RolloutRouter extends AbstractBehavior<RolloutRouter.Command> {

    /** Messages a router accepts: rollouts, weight publication and reports. */
    public sealed interface Command
            permits RolloutManager.RunRollout,
                    PublishWeights,
                    GetRoutingStats,
                    ShutdownNodes,
                    NodesListed,
                    NodeAnswered,
                    TreeAnswered,
                    PolicyAnswered,
                    NodeGone {}

    /**
     * Publishes {@code weights} to every node and replies once each node present at the start has
     * loaded it or failed. {@code checksum} is {@link PolicyWeights#checksum()} of the weights,
     * computed by the caller so that the router never blocks on tensor data.
     */
    public record PublishWeights(PolicyWeights weights, long checksum, ActorRef<WeightsPublished> replyTo)
            implements Command {}

    /**
     * Outcome of a publication: the reply of every node, with the checksum it computed. {@code error}
     * is null when every node loaded the version.
     */
    public record WeightsPublished(
            long version, long checksum, List<InferenceNode.PolicyLoaded> nodes, double seconds, String error) {}

    public record GetRoutingStats(ActorRef<RoutingStats> replyTo) implements Command {}

    /** Work per node since the router started, departed nodes included, and the trees grown again. */
    public record RoutingStats(List<NodeTally> nodes, long treesRerun) {}

    /** Work of one node; {@code treesByWorker} counts the trees each of its workers grew. */
    public record NodeTally(
            String nodeId,
            String address,
            long trees,
            long segments,
            Map<String, Long> treesByWorker,
            long policyVersion,
            boolean alive) {}

    /** Tells every node to shut down, at the end of a run. */
    public record ShutdownNodes(String reason) implements Command {}

    record NodesListed(Set<ActorRef<InferenceNode.Command>> nodes) implements Command {}

    record NodeAnswered(InferenceNode.NodeInfo info) implements Command {}

    record TreeAnswered(InferenceNode.TreeOutcome outcome) implements Command {}

    record PolicyAnswered(InferenceNode.PolicyLoaded loaded) implements Command {}

    record NodeGone(ActorRef<InferenceNode.Command> node) implements Command {}

    public static Behavior<Command> create(int minNodes, WeightTransport transport) {
        return Behaviors.setup(context -> new RolloutRouter(context, minNodes, transport));
    }

    private final int minNodes;
    private final WeightTransport transport;
    private final ActorRef<InferenceNode.NodeInfo> infoAdapter;
    private final ActorRef<InferenceNode.TreeOutcome> treeAdapter;
    private final ActorRef<InferenceNode.PolicyLoaded> policyAdapter;
    private final Set<ActorRef<InferenceNode.Command>> greeted = new HashSet<>();
    private final Map<ActorRef<InferenceNode.Command>, NodeState> nodes = new LinkedHashMap<>();
    private final Map<String, NodeTally> departed = new LinkedHashMap<>();
    private final ArrayDeque<PendingTree> queue = new ArrayDeque<>();
    private final Map<Long, PendingTree> inFlight = new HashMap<>();
    private PolicyWeights current;
    private long currentChecksum;
    private Publication publication;
    private PublishWeights deferredPublish;
    private long nextTreeId;
    private long treesRerun;

    private RolloutRouter(ActorContext<Command> context, int minNodes, WeightTransport transport) {
        super(context);
        if (minNodes < 1) {
            throw new IllegalArgumentException("a rollout router needs minNodes >= 1, got " + minNodes);
        }
        this.minNodes = minNodes;
        this.transport = transport;
        this.infoAdapter = context.messageAdapter(InferenceNode.NodeInfo.class, NodeAnswered::new);
        this.treeAdapter = context.messageAdapter(InferenceNode.TreeOutcome.class, TreeAnswered::new);
        this.policyAdapter = context.messageAdapter(InferenceNode.PolicyLoaded.class, PolicyAnswered::new);
        ActorRef<Receptionist.Listing> listingAdapter = context.messageAdapter(Receptionist.Listing.class,
                listing -> new NodesListed(listing.getServiceInstances(InferenceNode.KEY)));
        context.getSystem().receptionist().tell(Receptionist.subscribe(InferenceNode.KEY, listingAdapter));
        context.getLog().info("Rollout router started; waiting for {} inference node(s)", minNodes);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RolloutManager.RunRollout.class, this::onRunRollout)
                .onMessage(PublishWeights.class, this::onPublish)
                .onMessage(GetRoutingStats.class, this::onGetStats)
                .onMessage(ShutdownNodes.class, this::onShutdownNodes)
                .onMessage(NodesListed.class, this::onNodesListed)
                .onMessage(NodeAnswered.class, this::onNodeAnswered)
                .onMessage(TreeAnswered.class, this::onTreeAnswered)
                .onMessage(PolicyAnswered.class, this::onPolicyAnswered)
                .onMessage(NodeGone.class, gone -> onNodeGone(gone.node(), "stopped or left the cluster"))
                .build();
    }

    // ---- membership ----

    private Behavior<Command> onNodesListed(NodesListed listed) {
        for (ActorRef<InferenceNode.Command> node : listed.nodes()) {
            if (greeted.add(node)) {
                node.tell(new InferenceNode.Hello(WireMessage.VERSION, infoAdapter));
            }
        }
        for (ActorRef<InferenceNode.Command> known : List.copyOf(nodes.keySet())) {
            if (!listed.nodes().contains(known)) {
                onNodeGone(known, "deregistered");
            }
        }
        return this;
    }

    private Behavior<Command> onNodeAnswered(NodeAnswered answered) {
        InferenceNode.NodeInfo info = answered.info();
        if (info.wireVersion() != WireMessage.VERSION) {
            getContext().getLog().error("Rejected inference node {} at {}: it speaks wire version {}, this trainer {};"
                            + " run the same TreePO-J version on every node",
                    info.nodeId(), info.node().path().address(), info.wireVersion(), WireMessage.VERSION);
            return this;
        }
        if (nodes.containsKey(info.node())) {
            return this;
        }
        NodeState state = new NodeState(info);
        nodes.put(info.node(), state);
        getContext().watchWith(info.node(), new NodeGone(info.node()));
        getContext().getLog().info("Inference node {} joined from {}: workers {}, up to {} trees ({} node(s) now)",
                info.nodeId(), info.node().path().address(), info.workerIds(), info.capacity(), nodes.size());
        if (current != null) {
            info.node().tell(new InferenceNode.LoadPolicy(
                    transport.offer(current, currentChecksum, info.node()), policyAdapter));
        }
        if (deferredPublish != null && nodes.size() >= minNodes) {
            PublishWeights publish = deferredPublish;
            deferredPublish = null;
            startPublication(publish);
        } else if (deferredPublish != null) {
            getContext().getLog().info("Policy version {} still waits for {} more inference node(s)",
                    deferredPublish.weights().version(), minNodes - nodes.size());
        }
        return this;
    }

    private Behavior<Command> onNodeGone(ActorRef<InferenceNode.Command> node, String reason) {
        greeted.remove(node);
        NodeState state = nodes.remove(node);
        if (state == null) {
            return this;
        }
        getContext().unwatch(node);
        departed.put(state.info.nodeId(), state.tally(false));

        // Its trees go back to the front of the queue, lowest tree id first.
        List<PendingTree> orphans = new ArrayList<>();
        for (PendingTree tree : inFlight.values()) {
            if (tree.node == node) {
                orphans.add(tree);
            }
        }
        orphans.sort(Comparator.comparingLong(tree -> -tree.treeId));
        for (PendingTree tree : orphans) {
            inFlight.remove(tree.treeId);
            tree.node = null;
            queue.addFirst(tree);
        }
        treesRerun += orphans.size();
        if (orphans.isEmpty()) {
            getContext().getLog().info("Inference node {} {}; {} node(s) remain", state.info.nodeId(), reason, nodes.size());
        } else {
            getContext().getLog().warn("Inference node {} {} with {} trees in flight, which grow again on the other {} node(s)",
                    state.info.nodeId(), reason, orphans.size(), nodes.size());
        }

        if (publication != null && publication.waiting.remove(node)) {
            finishPublicationIfDone();
        }
        dispatch();
        return this;
    }

    // ---- weights ----

    private Behavior<Command> onPublish(PublishWeights publish) {
        if (nodes.size() < minNodes) {
            getContext().getLog().info("Policy version {} waits for {} inference node(s) (cluster.min-inference-nodes);"
                    + " {} joined so far", publish.weights().version(), minNodes, nodes.size());
            if (deferredPublish != null) {
                supersede(deferredPublish, publish);
            }
            deferredPublish = publish;
            return this;
        }
        startPublication(publish);
        return this;
    }

    /** Replies to a publication that a newer one replaced before it finished, so its caller never waits forever. */
    private static void supersede(PublishWeights old, PublishWeights newer) {
        old.replyTo().tell(new WeightsPublished(old.weights().version(), old.checksum(), List.of(), 0,
                "policy version " + old.weights().version() + " was superseded by version "
                        + newer.weights().version() + " before every node had loaded it"));
    }

    private void startPublication(PublishWeights publish) {
        if (publication != null) {
            supersede(publication.request, publish);
        }
        current = publish.weights();
        currentChecksum = publish.checksum();
        publication = new Publication(publish, System.nanoTime());
        for (Map.Entry<ActorRef<InferenceNode.Command>, NodeState> entry : nodes.entrySet()) {
            publication.waiting.add(entry.getKey());
            entry.getKey().tell(new InferenceNode.LoadPolicy(
                    transport.offer(current, currentChecksum, entry.getKey()), policyAdapter));
        }
        getContext().getLog().info("Publishing policy version {} (checksum {}) to {} node(s)",
                current.version(), PolicyWeights.hex(currentChecksum), nodes.size());
    }

    private Behavior<Command> onPolicyAnswered(PolicyAnswered answered) {
        InferenceNode.PolicyLoaded loaded = answered.loaded();
        ActorRef<InferenceNode.Command> node = nodeById(loaded.nodeId());
        if (node == null) {
            return this;
        }
        if (loaded.error() == null) {
            nodes.get(node).policyVersion = loaded.version();
        } else {
            getContext().getLog().error("Inference node {} did not load policy version {}: {}",
                    loaded.nodeId(), loaded.version(), loaded.error());
        }
        if (publication != null && loaded.version() == publication.request.weights().version()
                && publication.waiting.remove(node)) {
            publication.answers.add(loaded);
            finishPublicationIfDone();
        }
        dispatch();
        return this;
    }

    private void finishPublicationIfDone() {
        if (!publication.waiting.isEmpty()) {
            return;
        }
        Publication done = publication;
        publication = null;
        String error = null;
        for (InferenceNode.PolicyLoaded answer : done.answers) {
            if (answer.error() != null) {
                error = answer.error();
                break;
            }
        }
        if (done.answers.isEmpty()) {
            error = "every inference node left before policy version " + done.request.weights().version() + " was loaded";
        }
        double seconds = (System.nanoTime() - done.startNanos) / 1e9;
        done.request.replyTo().tell(new WeightsPublished(done.request.weights().version(), done.request.checksum(),
                List.copyOf(done.answers), seconds, error));
    }

    // ---- trees ----

    private Behavior<Command> onRunRollout(RolloutManager.RunRollout run) {
        RolloutState rollout = new RolloutState(run, System.nanoTime());
        if (run.prompts().isEmpty()) {
            finish(rollout);
            return this;
        }
        for (RolloutManager.PromptJob prompt : run.prompts()) {
            queue.add(new PendingTree(nextTreeId++, rollout, prompt));
        }
        dispatch();
        return this;
    }

    private void dispatch() {
        while (!queue.isEmpty()) {
            NodeState target = null;
            for (NodeState node : nodes.values()) {
                boolean ready = current != null && node.policyVersion == current.version()
                        && node.inFlight < node.info.capacity();
                if (ready && (target == null || node.load() < target.load())) {
                    target = node;
                }
            }
            if (target == null) {
                return;
            }
            PendingTree tree = queue.poll();
            RolloutManager.RunRollout run = tree.rollout.run;
            tree.node = target.info.node();
            target.inFlight++;
            inFlight.put(tree.treeId, tree);
            target.info.node().tell(new InferenceNode.GrowTree(tree.treeId, tree.prompt.promptIndex(),
                    tree.prompt.promptTokens(), run.tree(), run.sampling(), run.seed(), treeAdapter));
        }
    }

    private Behavior<Command> onTreeAnswered(TreeAnswered answered) {
        InferenceNode.TreeOutcome outcome = answered.outcome();
        PendingTree tree = inFlight.get(outcome.treeId());
        NodeState node = tree == null ? null : nodes.get(tree.node);
        if (tree == null || node == null || !node.info.nodeId().equals(outcome.nodeId())) {
            // A reply from a node that was given up for gone. The tree already grows elsewhere.
            return this;
        }
        inFlight.remove(outcome.treeId());
        node.inFlight--;
        RolloutState rollout = tree.rollout;
        if (outcome instanceof InferenceNode.TreeGrown grown) {
            node.trees++;
            node.segments += grown.tree().stats().segments();
            for (String worker : grown.tree().workers()) {
                node.treesByWorker.merge(worker, 1L, Long::sum);
            }
            rollout.trees.add(grown.tree());
        } else if (outcome instanceof InferenceNode.TreeNotGrown failed) {
            getContext().getLog().error("Tree {} of prompt {} failed on node {}: {}",
                    tree.treeId, tree.prompt.promptIndex(), failed.nodeId(), failed.reason());
            rollout.failures.add(new TreeRoot.TreeFailed(tree.treeId, tree.prompt.promptIndex(),
                    "node " + failed.nodeId() + ": " + failed.reason()));
        }
        if (rollout.trees.size() + rollout.failures.size() == rollout.run.prompts().size()) {
            finish(rollout);
        }
        dispatch();
        return this;
    }

    private void finish(RolloutState rollout) {
        rollout.trees.sort(Comparator.comparingInt(TreeRoot.TreeFinished::promptIndex));
        double seconds = (System.nanoTime() - rollout.startNanos) / 1e9;
        rollout.run.replyTo().tell(new RolloutManager.RolloutFinished(rollout.run.rolloutId(),
                List.copyOf(rollout.trees), List.copyOf(rollout.failures), seconds));
    }

    // ---- reports ----

    private Behavior<Command> onGetStats(GetRoutingStats request) {
        Map<String, NodeTally> tallies = new LinkedHashMap<>(departed);
        for (NodeState node : nodes.values()) {
            tallies.put(node.info.nodeId(), node.tally(true));
        }
        request.replyTo().tell(new RoutingStats(List.copyOf(tallies.values()), treesRerun));
        return this;
    }

    private Behavior<Command> onShutdownNodes(ShutdownNodes shutdown) {
        for (ActorRef<InferenceNode.Command> node : nodes.keySet()) {
            node.tell(new InferenceNode.Shutdown(shutdown.reason()));
        }
        return this;
    }

    private ActorRef<InferenceNode.Command> nodeById(String nodeId) {
        for (NodeState node : nodes.values()) {
            if (node.info.nodeId().equals(nodeId)) {
                return node.info.node();
            }
        }
        return null;
    }

    private static final class NodeState {
        final InferenceNode.NodeInfo info;
        long policyVersion = -1;
        int inFlight;
        long trees;
        long segments;
        final Map<String, Long> treesByWorker = new java.util.TreeMap<>();

        NodeState(InferenceNode.NodeInfo info) {
            this.info = info;
        }

        double load() {
            return (double) inFlight / info.capacity();
        }

        NodeTally tally(boolean alive) {
            return new NodeTally(info.nodeId(), info.node().path().address().toString(), trees, segments,
                    Map.copyOf(treesByWorker), policyVersion, alive);
        }
    }

    private static final class PendingTree {
        final long treeId;
        final RolloutState rollout;
        final RolloutManager.PromptJob prompt;
        ActorRef<InferenceNode.Command> node;

        PendingTree(long treeId, RolloutState rollout, RolloutManager.PromptJob prompt) {
            this.treeId = treeId;
            this.rollout = rollout;
            this.prompt = prompt;
        }
    }

    private static final class RolloutState {
        final RolloutManager.RunRollout run;
        final long startNanos;
        final List<TreeRoot.TreeFinished> trees = new ArrayList<>();
        final List<TreeRoot.TreeFailed> failures = new ArrayList<>();

        RolloutState(RolloutManager.RunRollout run, long startNanos) {
            this.run = run;
            this.startNanos = startNanos;
        }
    }

    private static final class Publication {
        final PublishWeights request;
        final long startNanos;
        final Set<ActorRef<InferenceNode.Command>> waiting = new HashSet<>();
        final List<InferenceNode.PolicyLoaded> answers = new ArrayList<>();

        Publication(PublishWeights request, long startNanos) {
            this.request = request;
            this.startNanos = startNanos;
        }
    }
}
