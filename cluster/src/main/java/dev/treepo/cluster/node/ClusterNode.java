package dev.treepo.cluster.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.treepo.cluster.config.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.SpawnProtocol;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * Starts the ActorSystem of one cluster node: Artery TCP on {@code cluster.host:cluster.port},
 * the given roles, Jackson CBOR for every message between nodes, the keep-majority split-brain
 * resolver, and a join of {@code cluster.seed-nodes} (or of itself when there are none).
 */
public final class ClusterNode {

    /** Name of every node's ActorSystem; nodes of one cluster must share it. */
    public static final String SYSTEM_NAME = "treepo";

    /** The node roles. */
    public static final String INFERENCE = "inference";
    public static final String TRAINER = "trainer";

    private ClusterNode() {}

    /** Builds the Pekko configuration of a node with {@code roles}. */
    public static Config config(Settings.Cluster cluster, Set<String> roles) {
        List<String> seeds = new ArrayList<>();
        for (String seed : cluster.seedNodes()) {
            seeds.add("pekko://" + SYSTEM_NAME + "@" + seed);
        }
        Config derived = ConfigFactory.empty()
                .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(cluster.host()))
                .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(cluster.port()))
                .withValue("pekko.remote.artery.advanced.maximum-frame-size",
                        ConfigValueFactory.fromAnyRef(cluster.maxMessageBytes() + "b"))
                .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(List.copyOf(roles)))
                .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
                .withValue("pekko.cluster.split-brain-resolver.stable-after",
                        ConfigValueFactory.fromAnyRef(cluster.downAfterSeconds() + "s"));
        return derived
                .withFallback(ConfigFactory.parseResources(ClusterNode.class.getClassLoader(), "treepo-cluster.conf"))
                .withFallback(ConfigFactory.defaultReference(ClusterNode.class.getClassLoader()))
                .resolve();
    }

    /** Starts a node and joins the cluster: the seed nodes, or itself when the list is empty. */
    public static ActorSystem<SpawnProtocol.Command> start(Settings.Cluster cluster, Set<String> roles) {
        ActorSystem<SpawnProtocol.Command> system =
                ActorSystem.create(SpawnProtocol.create(), SYSTEM_NAME, config(cluster, roles));
        Cluster members = Cluster.get(system);
        // With seed nodes in the configuration Pekko joins them by itself.
        if (cluster.seedNodes().isEmpty()) {
            members.manager().tell(Join.create(members.selfMember().address()));
        }
        system.log().info("Cluster node {} started with roles {}, joining {}", members.selfMember().address(), roles,
                cluster.seedNodes().isEmpty() ? "itself (first seed)" : cluster.seedNodes());
        return system;
    }
}
