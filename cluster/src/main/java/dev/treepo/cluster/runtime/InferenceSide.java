package dev.treepo.cluster.runtime;

import dev.treepo.cluster.config.Settings;
import dev.treepo.model.engine.DecodeEngine;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.rollout.RolloutManager;
import dev.treepo.worker.DecodeWorker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SpawnProtocol;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The inference role inside one JVM: {@code inference.workers} decode workers, each on its own
 * blocking dispatcher thread with its own engine, and the rollout manager that places trees on them.
 */
public final class InferenceSide {

    private final List<ActorRef<DecodeWorker.Command>> workers;
    private final ActorRef<RolloutManager.Command> rollouts;

    private InferenceSide(List<ActorRef<DecodeWorker.Command>> workers, ActorRef<RolloutManager.Command> rollouts) {
        this.workers = workers;
        this.rollouts = rollouts;
    }

    /** Spawns the workers and the rollout manager; trees run at most max-batch / width at a time. */
    public static InferenceSide start(
            ActorSystem<SpawnProtocol.Command> system,
            Settings settings,
            ModelSource model,
            Tokenizer tokenizer) {
        Settings.Inference inference = settings.inference();
        List<ActorRef<DecodeWorker.Command>> workers = new ArrayList<>();
        for (int i = 0; i < inference.workers(); i++) {
            DecodeEngine engine = new DecodeEngine(model.config(), inference.deviceOf(i).toDjlDevice(),
                    inference.kv().blockTokens(), inference.kv().blocks());
            String id = "worker-" + i + "@" + inference.deviceOf(i);
            workers.add(spawn(system, DecodeWorker.create(id, engine, tokenizer.vocabSize(),
                    RunParts.stopIds(model, RunParts.promptFormat(settings.task(), tokenizer)),
                    inference.maxBatch()), "worker-" + i, DispatcherSelector.blocking()));
        }
        int maxTrees = Math.max(inference.workers(), inference.workers() * inference.maxBatch() / settings.rollout().width());
        ActorRef<RolloutManager.Command> rollouts = spawn(system,
                RolloutManager.create(workers, tokenizer, maxTrees), "rollouts", DispatcherSelector.defaultDispatcher());
        return new InferenceSide(List.copyOf(workers), rollouts);
    }

    public List<ActorRef<DecodeWorker.Command>> workers() {
        return workers;
    }

    public ActorRef<RolloutManager.Command> rollouts() {
        return rollouts;
    }

    /** Loads {@code weights} into every worker and waits until all have acknowledged. */
    public void loadWeights(ActorSystem<?> system, PolicyWeights weights) {
        List<CompletableFuture<DecodeWorker.WeightsLoaded>> acks = new ArrayList<>();
        for (ActorRef<DecodeWorker.Command> worker : workers) {
            acks.add(AskPattern.<DecodeWorker.Command, DecodeWorker.WeightsLoaded>ask(worker,
                    replyTo -> new DecodeWorker.LoadWeights(weights, replyTo), Duration.ofMinutes(10),
                    system.scheduler()).toCompletableFuture());
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).join();
    }

    /** Spawns {@code behavior} under the system guardian and waits for its reference. */
    public static <T> ActorRef<T> spawn(
            ActorSystem<SpawnProtocol.Command> system,
            org.apache.pekko.actor.typed.Behavior<T> behavior,
            String name,
            org.apache.pekko.actor.typed.Props props) {
        return AskPattern.<SpawnProtocol.Command, ActorRef<T>>ask(system,
                        replyTo -> new SpawnProtocol.Spawn<>(behavior, name, props, replyTo),
                        Duration.ofSeconds(30), system.scheduler())
                .toCompletableFuture()
                .join();
    }
}
