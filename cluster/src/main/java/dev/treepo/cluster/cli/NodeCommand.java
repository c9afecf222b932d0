package dev.treepo.cluster.cli;

import ai.djl.ndarray.NDManager;
import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.node.ClusterNode;
import dev.treepo.cluster.node.StreamWeightTransport;
import dev.treepo.cluster.node.TrainerDeparture;
import dev.treepo.cluster.runtime.EmbeddedSystem;
import dev.treepo.cluster.runtime.InferenceNodes;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.TrainingSetup;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.policy.WeightTransport;
import dev.treepo.rollout.InferenceNode;
import dev.treepo.rollout.RolloutRouter;
import dev.treepo.trainer.Trainer;
import dev.treepo.trainer.TrainingSupervisor;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SpawnProtocol;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code treepo node --role ...}: one node of a cluster. A trainer node runs the training job as
 * the Cluster Singleton of the trainer role. When the job ends, it checks the cluster's work and
 * shuts the inference nodes down. An inference node serves rollouts until then.
 */
final class NodeCommand {

    private static final Logger LOG = LoggerFactory.getLogger(NodeCommand.class);

    private NodeCommand() {}

    static int run(Settings settings, String effectiveConfig, Set<String> roles, PrintStream out) throws IOException {
        boolean trains = roles.contains(ClusterNode.TRAINER);
        requireFreePort(settings.cluster());
        ActorSystem<SpawnProtocol.Command> actorSystem = ClusterNode.start(settings.cluster(), roles);
        try (EmbeddedSystem system = EmbeddedSystem.wrap(actorSystem)) {
            TrainingSetup setup = trains ? TrainingSetup.prepare(settings, effectiveConfig) : null;
            // TODO: an inference node needs only config.json and tokenizer.json of model.path, not its weights.
            ModelSource model = trains
                    ? setup.model()
                    : settings.model().path().isEmpty()
                            ? ModelSource.tiny(settings.run().seed(), Files.createTempDirectory("treepo-node"))
                            : ModelSource.load(Settings.userPath(settings.model().path()));
            Address address = Cluster.get(actorSystem).selfMember().address();
            String nodeId = "inference@" + address.getHost().orElse("local") + ":" + address.getPort().orElse(0);
            WeightTransport transport = new StreamWeightTransport(actorSystem, settings.cluster().weightChunkBytes());
            if (!trains) {
                return serveInference(system, settings, model, nodeId, transport, out);
            }
            if (roles.contains(ClusterNode.INFERENCE)) {
                InferenceNodes.start(system.system(), settings, model, nodeId, transport, null);
            }
            NDManager manager = NDManager.newBaseManager(settings.inference().device().toDjlDevice());
            try (PolicyTrainer policy = setup.newPolicy(manager)) {
                return train(system, settings, setup, policy, transport, out);
            } finally {
                manager.close();
            }
        }
    }

    /**
     * Fails with one clear line when {@code cluster.port} is taken, before Pekko would fail with
     * pages of stack traces. Port 0 always binds.
     */
    private static void requireFreePort(Settings.Cluster cluster) {
        if (cluster.port() == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(cluster.host(), cluster.port()));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot listen on cluster.host:cluster.port = " + cluster.host() + ":"
                    + cluster.port() + " (" + e.getMessage() + "); stop the process that uses the port or choose"
                    + " another with cluster.port=N (0 picks a free port for an inference node)");
        }
    }

    private static int serveInference(
            EmbeddedSystem system,
            Settings settings,
            ModelSource model,
            String nodeId,
            WeightTransport transport,
            PrintStream out) {
        EmbeddedSystem.Reply<InferenceNode.NodeStats> stopped = system.reply(InferenceNode.NodeStats.class, "node-report");
        InferenceNodes.Started started = InferenceNodes.start(system.system(), settings, model, nodeId, transport,
                stopped.ref());
        system.spawn(TrainerDeparture.watch(started.node()), "trainer-departure", Props.empty());
        LOG.info("Inference node {} started; it serves rollouts once it has joined the cluster (seed nodes {}) and"
                + " received weights, and it stops when the trainer finishes or leaves", nodeId, settings.cluster().seedNodes());
        // The actor system also terminates when this node is downed, before the node can report.
        CompletableFuture.anyOf(stopped.future(), system.system().getWhenTerminated().toCompletableFuture()).join();
        if (!stopped.future().isDone()) {
            LOG.error("Inference node {} stopped because its actor system terminated (the node was downed or shut down)",
                    nodeId);
            return Main.EXIT_FAILURE;
        }
        InferenceNode.NodeStats stats = stopped.future().join();
        out.printf("inference node %s served %d segments in %d trees, last policy version %d%n",
                stats.nodeId(), stats.segmentsServed(), stats.treesGrown(), stats.policyVersion());
        return 0;
    }

    private static int train(
            EmbeddedSystem system,
            Settings settings,
            TrainingSetup setup,
            PolicyTrainer policy,
            WeightTransport transport,
            PrintStream out) {
        ActorSystem<SpawnProtocol.Command> actorSystem = system.system();
        ActorRef<TrainingSupervisor.Command> trainer = ClusterSingleton.get(actorSystem).init(
                SingletonActor.of(setup.trainerRole(policy, settings.cluster().minInferenceNodes(), transport), "training")
                        .withSettings(ClusterSingletonSettings.create(actorSystem).withRole(ClusterNode.TRAINER)));
        EmbeddedSystem.Reply<Trainer.TrainingFinished> done = system.reply(Trainer.TrainingFinished.class, "run");
        trainer.tell(new TrainingSupervisor.Start(done.ref()));
        Trainer.TrainingFinished finished = done.future().join();
        RolloutRouter.RoutingStats routing = AskPattern.<TrainingSupervisor.Command, RolloutRouter.RoutingStats>ask(
                        trainer, TrainingSupervisor.GetRoutingStats::new, Duration.ofSeconds(30), actorSystem.scheduler())
                .toCompletableFuture()
                .join();
        trainer.tell(new TrainingSupervisor.StopInference("the training job finished"));

        List<String> failures = check(finished, routing, settings.cluster().minInferenceNodes());
        for (RolloutRouter.NodeTally node : routing.nodes()) {
            out.printf("inference node %s served %d segments in %d trees%s, trees per worker %s%n", node.nodeId(),
                    node.segments(), node.trees(), node.alive() ? "" : " before it left",
                    new java.util.TreeMap<>(node.treesByWorker()));
        }
        TrainCommand.report(finished, out);
        out.printf("weight syncs verified: %d, trees grown again after a node left: %d%n",
                finished.syncs().size(), routing.treesRerun());
        if (failures.isEmpty()) {
            out.println("cluster checks passed: every prompt had its leaves, every inference node served segments, "
                    + "every tree was within train.max-staleness, every node's weight checksum equalled the trainer's");
        } else {
            failures.forEach(failure -> out.println("cluster check failed: " + failure));
        }
        // Give the shutdown messages time to reach the inference nodes before this node leaves.
        sleep(Duration.ofSeconds(2));
        return failures.isEmpty() ? 0 : Main.EXIT_FAILURE;
    }

    /**
     * Returns what went wrong in a cluster run. The trainer already fails a run whose trees lack
     * leaves or are too stale, or whose weight checksums differ. This method checks the checksums
     * again and adds the check that needs the whole cluster: every inference node served segments.
     */
    static List<String> check(Trainer.TrainingFinished finished, RolloutRouter.RoutingStats routing, int minNodes) {
        List<String> failures = new ArrayList<>();
        if (finished.error() != null) {
            failures.add("the training job failed: " + finished.error());
        }
        for (RolloutRouter.WeightsPublished sync : finished.syncs()) {
            for (InferenceNode.PolicyLoaded node : sync.nodes()) {
                if (node.checksum() != sync.checksum()) {
                    failures.add("node " + node.nodeId() + " loaded policy version " + sync.version() + " with checksum "
                            + PolicyWeights.hex(node.checksum()) + ", the trainer's is " + PolicyWeights.hex(sync.checksum()));
                }
            }
        }
        long serving = routing.nodes().stream().filter(node -> node.segments() > 0).count();
        if (serving < minNodes) {
            failures.add(serving + " inference node(s) served segments, fewer than cluster.min-inference-nodes=" + minNodes);
        }
        for (RolloutRouter.NodeTally node : routing.nodes()) {
            if (node.alive() && node.segments() == 0) {
                failures.add("inference node " + node.nodeId() + " served no segments");
            }
        }
        return failures;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
