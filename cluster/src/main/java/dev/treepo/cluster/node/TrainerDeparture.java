package dev.treepo.cluster.node;

import dev.treepo.rollout.InferenceNode;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * Shuts an inference node down when the last trainer node leaves the cluster, so that inference
 * processes do not outlive a trainer that crashed or was stopped before it could tell them.
 */
public final class TrainerDeparture {

    private TrainerDeparture() {}

    /** Watches membership and sends {@code node} a Shutdown once no trainer member remains. */
    public static Behavior<ClusterEvent.MemberEvent> watch(ActorRef<InferenceNode.Command> node) {
        return Behaviors.setup(context -> {
            Cluster cluster = Cluster.get(context.getSystem());
            cluster.subscriptions().tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberEvent.class));
            return Behaviors.receive(ClusterEvent.MemberEvent.class)
                    .onMessage(ClusterEvent.MemberRemoved.class, removed -> {
                        Member member = removed.member();
                        boolean trainerLeft = member.hasRole(ClusterNode.TRAINER) && noTrainerLeft(cluster);
                        if (trainerLeft) {
                            context.getLog().warn("Trainer node {} left the cluster; shutting this inference node down",
                                    member.address());
                            node.tell(new InferenceNode.Shutdown("the trainer node " + member.address()
                                    + " left the cluster"));
                            return Behaviors.stopped();
                        }
                        return Behaviors.same();
                    })
                    .onAnyMessage(event -> Behaviors.same())
                    .build();
        });
    }

    private static boolean noTrainerLeft(Cluster cluster) {
        for (Member member : cluster.state().getMembers()) {
            if (member.hasRole(ClusterNode.TRAINER)) {
                return false;
            }
        }
        return true;
    }
}
