package dev.treepo.rollout;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.policy.WeightDelivery;
import dev.treepo.policy.WeightTransport;
import dev.treepo.tree.Scenario;
import dev.treepo.tree.TreeConfig;
import dev.treepo.worker.DecodeWorker;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * The inference side of one node: its decode workers, a {@link RolloutManager} that places tree
 * roots on them, and the node's entry point for the {@link RolloutRouter} on the trainer node.
 *
 * <p>The node registers itself and its workers with the Receptionist. The router greets it with
 * {@link Hello}, sends weights with {@link LoadPolicy} and trees with {@link GrowTree}; a tree's
 * root runs here, next to the worker that holds its KV blocks, and only the finished tree travels
 * back. Scenarios are code, not data, so each node builds a tree's scenario with its own factory.
 */
public final class InferenceNode extends AbstractBehavior<InferenceNode.Command> {

    /** Receptionist key under which inference nodes register. */
    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "treepo-inference-node");

    /** Messages an inference node accepts. */
    public sealed interface Command {}

    /** A router's greeting. The node replies with its {@link NodeInfo}. */
    public record Hello(int wireVersion, ActorRef<NodeInfo> replyTo) implements Command, WireMessage {}

    /**
     * Description of a node: its id, wire version, workers and how many trees it grows at a time.
     * {@code node} is the address to send work to.
     */
    public record NodeInfo(int wireVersion, String nodeId, List<String> workerIds, int capacity, ActorRef<Command> node)
            implements WireMessage {}

    /**
     * Grows the tree of one prompt. The tree's sampling seed derives from {@code rolloutSeed} and
     * {@code promptIndex} exactly as in a local rollout, so a tree grown again elsewhere after a
     * node failure is the same tree.
     */
    public record GrowTree(
            long treeId,
            int promptIndex,
            int[] promptTokens,
            TreeConfig tree,
            SamplingParams sampling,
            long rolloutSeed,
            ActorRef<TreeOutcome> replyTo)
            implements Command, WireMessage {}

    /** Result of a {@link GrowTree}, under the router's tree id. */
    public sealed interface TreeOutcome extends WireMessage {
        long treeId();

        String nodeId();
    }

    public record TreeGrown(long treeId, String nodeId, TreeRoot.TreeFinished tree) implements TreeOutcome {}

    public record TreeNotGrown(long treeId, String nodeId, String reason) implements TreeOutcome {}

    /** Loads a policy version into every worker of the node, then replies. */
    public record LoadPolicy(WeightDelivery delivery, ActorRef<PolicyLoaded> replyTo) implements Command, WireMessage {}

    /**
     * Reply to {@link LoadPolicy}: the version and the checksum of the weights the node received,
     * verified on the node for a stream, or the error when loading failed.
     */
    public record PolicyLoaded(String nodeId, long version, long checksum, int workers, String error)
            implements WireMessage {}

    /** Counters since the node started. */
    public record GetNodeStats(ActorRef<NodeStats> replyTo) implements Command, WireMessage {}

    public record NodeStats(String nodeId, long treesGrown, long segmentsServed, long policyVersion)
            implements WireMessage {}

    /** Stops the node actor, its workers and trees. The node's process then leaves the cluster. */
    public record Shutdown(String reason) implements Command, WireMessage {}

    private record TreeDone(RolloutManager.RolloutFinished rollout) implements Command {}

    private record WeightsReceived(LoadPolicy load, WeightTransport.Received received, Throwable error)
            implements Command {}

    private record WorkerLoaded(DecodeWorker.WeightsLoaded loaded) implements Command {}

    /**
     * Creates a node around workers it owns from now on.
     *
     * @param nodeId this node's id in logs and reports
     * @param workers the node's decode workers, each owning one engine on one device
     * @param workerIds the workers' ids, in the same order
     * @param tokenizer the model's tokenizer, for the tree roots' finish rules
     * @param maxConcurrentTrees how many trees the node grows at a time
     * @param scenarios builds the scenario of a tree from its settings
     * @param transport how weights arrive
     * @param keepKvAcrossVersions whether workers keep cached KV when a new policy version loads
     * @param reportOnStop receives the node's final counters when it stops, or null
     */
    public static Behavior<Command> create(
            String nodeId,
            List<ActorRef<DecodeWorker.Command>> workers,
            List<String> workerIds,
            Tokenizer tokenizer,
            int maxConcurrentTrees,
            Function<TreeConfig, Scenario> scenarios,
            WeightTransport transport,
            boolean keepKvAcrossVersions,
            ActorRef<NodeStats> reportOnStop) {
        return Behaviors.setup(context -> new InferenceNode(context, nodeId, workers, workerIds, tokenizer,
                maxConcurrentTrees, scenarios, transport, keepKvAcrossVersions, reportOnStop));
    }

    private final String nodeId;
    private final List<ActorRef<DecodeWorker.Command>> workers;
    private final List<String> workerIds;
    private final int capacity;
    private final Function<TreeConfig, Scenario> scenarios;
    private final WeightTransport transport;
    private final boolean keepKvAcrossVersions;
    private final ActorRef<NodeStats> reportOnStop;
    private final ActorRef<RolloutManager.Command> rollouts;
    private final ActorRef<RolloutManager.RolloutFinished> treeAdapter;
    private final ActorRef<DecodeWorker.WeightsLoaded> loadedAdapter;
    private final Map<Long, ActorRef<TreeOutcome>> replyByTree = new HashMap<>();
    private LoadPolicy loading;
    private long loadingChecksum;
    private int workersLoaded;
    private long policyVersion = -1;
    private long treesGrown;
    private long segmentsServed;

    private InferenceNode(
            ActorContext<Command> context,
            String nodeId,
            List<ActorRef<DecodeWorker.Command>> workers,
            List<String> workerIds,
            Tokenizer tokenizer,
            int maxConcurrentTrees,
            Function<TreeConfig, Scenario> scenarios,
            WeightTransport transport,
            boolean keepKvAcrossVersions,
            ActorRef<NodeStats> reportOnStop) {
        super(context);
        if (workers.isEmpty() || workers.size() != workerIds.size()) {
            throw new IllegalArgumentException("an inference node needs at least one worker and one id per worker, got "
                    + workers.size() + " workers and " + workerIds.size() + " ids");
        }
        this.nodeId = nodeId;
        this.workers = List.copyOf(workers);
        this.workerIds = List.copyOf(workerIds);
        this.capacity = maxConcurrentTrees;
        this.scenarios = scenarios;
        this.transport = transport;
        this.keepKvAcrossVersions = keepKvAcrossVersions;
        this.reportOnStop = reportOnStop;
        this.rollouts = context.spawn(RolloutManager.create(workers, tokenizer, maxConcurrentTrees), "rollouts");
        context.watch(rollouts);
        workers.forEach(context::watch);
        this.treeAdapter = context.messageAdapter(RolloutManager.RolloutFinished.class, TreeDone::new);
        this.loadedAdapter = context.messageAdapter(DecodeWorker.WeightsLoaded.class, WorkerLoaded::new);
        ActorRef<Receptionist.Command> receptionist = context.getSystem().receptionist();
        receptionist.tell(Receptionist.register(KEY, context.getSelf()));
        for (ActorRef<DecodeWorker.Command> worker : workers) {
            receptionist.tell(Receptionist.register(DecodeWorker.KEY, worker));
        }
        context.getLog().info("Inference node {} started with workers {}, up to {} trees at a time",
                nodeId, workerIds, maxConcurrentTrees);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Hello.class, this::onHello)
                .onMessage(GrowTree.class, this::onGrowTree)
                .onMessage(TreeDone.class, this::onTreeDone)
                .onMessage(LoadPolicy.class, this::onLoadPolicy)
                .onMessage(WeightsReceived.class, this::onWeightsReceived)
                .onMessage(WorkerLoaded.class, this::onWorkerLoaded)
                .onMessage(GetNodeStats.class, this::onGetNodeStats)
                .onMessage(Shutdown.class, this::onShutdown)
                .onSignal(PostStop.class, signal -> {
                    getContext().getLog().info("Inference node {} stopped after {} trees and {} segments",
                            nodeId, treesGrown, segmentsServed);
                    if (reportOnStop != null) {
                        reportOnStop.tell(new NodeStats(nodeId, treesGrown, segmentsServed, policyVersion));
                    }
                    return this;
                })
                .build();
    }

    private Behavior<Command> onHello(Hello hello) {
        if (hello.wireVersion() != WireMessage.VERSION) {
            getContext().getLog().error("Inference node {} rejected a router at {}: it speaks wire version {}, this node {};"
                            + " run the same TreePO-J version on every node",
                    nodeId, hello.replyTo().path().address(), hello.wireVersion(), WireMessage.VERSION);
        }
        hello.replyTo().tell(new NodeInfo(WireMessage.VERSION, nodeId, workerIds, capacity, getContext().getSelf()));
        return this;
    }

    private Behavior<Command> onGrowTree(GrowTree grow) {
        replyByTree.put(grow.treeId(), grow.replyTo());
        rollouts.tell(new RolloutManager.RunRollout(grow.treeId(),
                List.of(new RolloutManager.PromptJob(grow.promptIndex(), grow.promptTokens())),
                grow.tree(), scenarios.apply(grow.tree()), grow.sampling(), grow.rolloutSeed(), treeAdapter));
        return this;
    }

    private Behavior<Command> onTreeDone(TreeDone done) {
        RolloutManager.RolloutFinished rollout = done.rollout();
        ActorRef<TreeOutcome> replyTo = replyByTree.remove(rollout.rolloutId());
        if (replyTo == null) {
            getContext().getLog().warn("Inference node {} finished tree {} that nobody waits for", nodeId, rollout.rolloutId());
            return this;
        }
        if (!rollout.failures().isEmpty()) {
            replyTo.tell(new TreeNotGrown(rollout.rolloutId(), nodeId, rollout.failures().get(0).reason()));
            return this;
        }
        TreeRoot.TreeFinished tree = rollout.trees().get(0);
        treesGrown++;
        segmentsServed += tree.stats().segments();
        replyTo.tell(new TreeGrown(rollout.rolloutId(), nodeId, tree));
        return this;
    }

    private Behavior<Command> onLoadPolicy(LoadPolicy load) {
        if (loading != null) {
            load.replyTo().tell(new PolicyLoaded(nodeId, load.delivery().version(), 0, 0,
                    "node " + nodeId + " is still loading version " + loading.delivery().version()));
            return this;
        }
        loading = load;
        getContext().getLog().info("Inference node {} receiving policy version {} ({} bytes)",
                nodeId, load.delivery().version(), load.delivery().bytes());
        getContext().pipeToSelf(transport.receive(load.delivery()),
                (received, error) -> new WeightsReceived(load, received, error));
        return this;
    }

    private Behavior<Command> onWeightsReceived(WeightsReceived received) {
        LoadPolicy load = received.load();
        if (received.error() != null) {
            loading = null;
            getContext().getLog().error("Inference node {} failed to receive policy version {}: {}",
                    nodeId, load.delivery().version(), received.error().toString());
            load.replyTo().tell(new PolicyLoaded(nodeId, load.delivery().version(), 0, 0,
                    "node " + nodeId + ": " + received.error().getMessage()));
            return this;
        }
        PolicyWeights weights = received.received().weights();
        loadingChecksum = received.received().checksum();
        workersLoaded = 0;
        for (ActorRef<DecodeWorker.Command> worker : workers) {
            worker.tell(new DecodeWorker.LoadWeights(weights, keepKvAcrossVersions, loadedAdapter));
        }
        return this;
    }

    private Behavior<Command> onWorkerLoaded(WorkerLoaded loaded) {
        if (loading == null || loaded.loaded().version() != loading.delivery().version()) {
            return this;
        }
        workersLoaded++;
        if (workersLoaded == workers.size()) {
            policyVersion = loading.delivery().version();
            getContext().getLog().info("Inference node {} loaded policy version {} into {} workers, checksum {}",
                    nodeId, policyVersion, workers.size(), PolicyWeights.hex(loadingChecksum));
            loading.replyTo().tell(new PolicyLoaded(nodeId, policyVersion, loadingChecksum, workers.size(), null));
            loading = null;
        }
        return this;
    }

    private Behavior<Command> onGetNodeStats(GetNodeStats request) {
        request.replyTo().tell(new NodeStats(nodeId, treesGrown, segmentsServed, policyVersion));
        return this;
    }

    private Behavior<Command> onShutdown(Shutdown shutdown) {
        getContext().getLog().info("Inference node {} shutting down: {}", nodeId, shutdown.reason());
        return Behaviors.stopped();
    }
}
