package dev.treepo.cluster.runtime;

import dev.treepo.cluster.config.Settings;
import dev.treepo.model.engine.DecodeEngine;
import dev.treepo.policy.WeightTransport;
import dev.treepo.rollout.InferenceNode;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.worker.DecodeWorker;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.SpawnProtocol;

/**
 * Starts the inference role in an ActorSystem: {@code inference.workers} decode workers, each with
 * its own engine on {@code inference.device} and its own thread of the blocking dispatcher, and
 * the {@link InferenceNode} that serves them to the trainer's router.
 */
public final class InferenceNodes {

    private InferenceNodes() {}

    /** A started node and its workers. */
    public record Started(ActorRef<InferenceNode.Command> node, List<ActorRef<DecodeWorker.Command>> workers) {}

    /** Starts the workers and the node; {@code reportOnStop} (or null) gets the node's final counters. */
    public static Started start(
            ActorSystem<SpawnProtocol.Command> system,
            Settings settings,
            ModelSource model,
            String nodeId,
            WeightTransport transport,
            ActorRef<InferenceNode.NodeStats> reportOnStop) {
        Settings.Inference inference = settings.inference();
        int[] stopIds = RunParts.stopIds(model, RunParts.promptFormat(settings.task(), model.tokenizer()));
        List<ActorRef<DecodeWorker.Command>> workers = new ArrayList<>();
        List<String> workerIds = new ArrayList<>();
        for (int i = 0; i < inference.workers(); i++) {
            DecodeEngine engine = new DecodeEngine(model.config(), inference.deviceOf(i).toDjlDevice(),
                    inference.kv().blockTokens(), inference.kv().blocks());
            String workerId = nodeId + "/worker-" + i + "@" + inference.deviceOf(i);
            workerIds.add(workerId);
            workers.add(InferenceSide.spawn(system, DecodeWorker.create(workerId, engine, model.tokenizer().vocabSize(),
                    stopIds, inference.maxBatch()), "worker-" + i, DispatcherSelector.blocking()));
        }
        // Trees run at most max-batch / width at a time per worker, so the KV cache does not fill
        // with half-grown trees that all wait for blocks.
        int maxTrees = Math.max(inference.workers(), inference.workers() * inference.maxBatch() / settings.rollout().width());
        ActorRef<InferenceNode.Command> node = InferenceSide.spawn(system,
                InferenceNode.create(nodeId, workers, workerIds, model.tokenizer(), maxTrees, BoxedAnswerScenario::new,
                        transport, inference.kv().keepAcrossVersions(), reportOnStop),
                "inference-node", Props.empty());
        return new Started(node, List.copyOf(workers));
    }
}
