package dev.treepo.trainer;

import dev.treepo.policy.WeightTransport;
import dev.treepo.rollout.RolloutRouter;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The trainer role of a node: a {@link RolloutRouter} and a {@link Trainer} side by side, so that
 * the trainer's rollouts never cross the network on their way to the router. In a cluster this
 * actor is the Cluster Singleton of the trainer role; in one JVM it is an ordinary actor.
 *
 * <p>If the trainer stops without a result (it threw), the run ends with an error instead of
 * waiting forever.
 */
public final class TrainingSupervisor extends AbstractBehavior<TrainingSupervisor.Command> {

    /** Messages the trainer role accepts. */
    public sealed interface Command {}

    /** Starts the run; the result goes to {@code replyTo}. */
    public record Start(ActorRef<Trainer.TrainingFinished> replyTo) implements Command {}

    /** Asks the router for the work each inference node did. */
    public record GetRoutingStats(ActorRef<RolloutRouter.RoutingStats> replyTo) implements Command {}

    /** Tells every inference node to shut down, at the end of a run. */
    public record StopInference(String reason) implements Command {}

    private record Finished(Trainer.TrainingFinished finished) implements Command {}

    private record TrainerStopped() implements Command {}

    /**
     * @param trainer builds the trainer around the router it is given
     * @param minNodes inference nodes to wait for before the first publication
     * @param transport how weights reach the inference nodes
     */
    public static Behavior<Command> create(
            Function<ActorRef<RolloutRouter.Command>, Behavior<Trainer.Command>> trainer,
            int minNodes,
            WeightTransport transport) {
        return Behaviors.setup(context -> new TrainingSupervisor(context, trainer, minNodes, transport));
    }

    private final ActorRef<RolloutRouter.Command> router;
    private final ActorRef<Trainer.Command> trainer;
    private final ActorRef<Trainer.TrainingFinished> finishedAdapter;
    private ActorRef<Trainer.TrainingFinished> replyTo;
    private boolean finished;

    private TrainingSupervisor(
            ActorContext<Command> context,
            Function<ActorRef<RolloutRouter.Command>, Behavior<Trainer.Command>> trainerFactory,
            int minNodes,
            WeightTransport transport) {
        super(context);
        this.router = context.spawn(RolloutRouter.create(minNodes, transport), "router");
        // Tensor work blocks, so the trainer gets a thread of the blocking dispatcher.
        this.trainer = context.spawn(trainerFactory.apply(router), "trainer", DispatcherSelector.blocking());
        context.watchWith(trainer, new TrainerStopped());
        this.finishedAdapter = context.messageAdapter(Trainer.TrainingFinished.class, Finished::new);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Start.class, this::onStart)
                .onMessage(GetRoutingStats.class, request -> {
                    router.tell(new RolloutRouter.GetRoutingStats(request.replyTo()));
                    return this;
                })
                .onMessage(StopInference.class, stop -> {
                    router.tell(new RolloutRouter.ShutdownNodes(stop.reason()));
                    return this;
                })
                .onMessage(Finished.class, this::onFinished)
                .onMessage(TrainerStopped.class, stopped -> onTrainerStopped())
                .build();
    }

    private Behavior<Command> onStart(Start start) {
        if (replyTo != null) {
            start.replyTo().tell(new Trainer.TrainingFinished(null, null, null,
                    "this trainer already runs; start a new run with a new trainer node", List.of()));
            return this;
        }
        replyTo = start.replyTo();
        trainer.tell(new Trainer.Start(finishedAdapter));
        return this;
    }

    private Behavior<Command> onFinished(Finished result) {
        finished = true;
        replyTo.tell(result.finished());
        return this;
    }

    private Behavior<Command> onTrainerStopped() {
        if (!finished) {
            getContext().getLog().error("The trainer stopped without a result; the trainer role stops with it");
            if (replyTo != null) {
                replyTo.tell(new Trainer.TrainingFinished(null, null, null,
                        "the trainer stopped without a result; its error is in the log above", List.of()));
            }
        }
        return Behaviors.stopped();
    }
}
