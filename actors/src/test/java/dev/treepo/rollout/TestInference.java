package dev.treepo.rollout;

import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.policy.WeightTransport;
import dev.treepo.tree.BoxedAnswerScenario;
import dev.treepo.worker.DecodeWorker;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;

/** Wires one worker into an inference node and a router, as the embedded run does. */
public final class TestInference {

    private TestInference() {}

    /** Spawns a node around {@code worker} and a router that waits for that node. */
    public static ActorRef<RolloutRouter.Command> router(
            ActorTestKit testKit, ActorRef<DecodeWorker.Command> worker, Tokenizer tokenizer, int maxTrees) {
        testKit.spawn(InferenceNode.create("node-0", List.of(worker), List.of("w0"), tokenizer, maxTrees,
                BoxedAnswerScenario::new, WeightTransport.inMemory(), false, null));
        return testKit.spawn(RolloutRouter.create(1, WeightTransport.inMemory()));
    }
}
