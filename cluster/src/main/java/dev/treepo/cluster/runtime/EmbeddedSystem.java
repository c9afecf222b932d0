package dev.treepo.cluster.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SpawnProtocol;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One ActorSystem with both roles, inference and trainer: the embedded default. Closing it
 * terminates the system and waits for every actor to stop, so workers release their engines.
 */
public final class EmbeddedSystem implements AutoCloseable {

    private final ActorSystem<SpawnProtocol.Command> system;

    private EmbeddedSystem(ActorSystem<SpawnProtocol.Command> system) {
        this.system = system;
    }

    public static EmbeddedSystem start(String name) {
        Config config = ConfigFactory.load();
        return new EmbeddedSystem(ActorSystem.create(SpawnProtocol.create(), name, config));
    }

    /** Wraps the system of a cluster node, for {@link #reply} and a close that waits for every actor. */
    public static EmbeddedSystem wrap(ActorSystem<SpawnProtocol.Command> system) {
        return new EmbeddedSystem(system);
    }

    public ActorSystem<SpawnProtocol.Command> system() {
        return system;
    }

    public <T> ActorRef<T> spawn(Behavior<T> behavior, String name, Props props) {
        return InferenceSide.spawn(system, behavior, name, props);
    }

    /**
     * Spawns an actor that completes the returned future with the first message it receives, then
     * stops: the bridge from an actor's reply to the command-line thread. Call {@link Reply#watch}
     * on the actors the result depends on: if one stops first (it failed), the future fails
     * instead of waiting forever.
     */
    public <T> Reply<T> reply(Class<T> type, String name) {
        CompletableFuture<T> future = new CompletableFuture<>();
        ActorRef<Object> ref = spawn(Behaviors.setup(context -> Behaviors.receive(Object.class)
                .onMessage(WatchRequest.class, request -> {
                    context.watch(request.actor());
                    return Behaviors.same();
                })
                .onSignal(Terminated.class, stopped -> {
                    future.completeExceptionally(new IllegalStateException("actor " + stopped.getRef().path()
                            + " stopped before the result arrived; its error is in the log above"));
                    return Behaviors.stopped();
                })
                .onAnyMessage(message -> {
                    future.complete(type.cast(message));
                    return Behaviors.stopped();
                })
                .build()), name, Props.empty());
        return new Reply<>(ref.unsafeUpcast(), ref, future);
    }

    private record WatchRequest(ActorRef<?> actor) {}

    /** A reply address and the future its first message completes. */
    public record Reply<T>(ActorRef<T> ref, ActorRef<Object> collector, CompletableFuture<T> future) {

        /** Fails the future if {@code actor} stops before the reply arrives. */
        public Reply<T> watch(ActorRef<?> actor) {
            collector.tell(new WatchRequest(actor));
            return this;
        }
    }

    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(Duration.ofMinutes(1).toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            org.slf4j.LoggerFactory.getLogger(EmbeddedSystem.class)
                    .warn("Actor system {} did not terminate cleanly: {}", system.name(), e.toString());
        }
    }
}
