package dev.treepo.rollout;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.tree.PromptTree.SegmentRequest;
import dev.treepo.tree.PromptTree.SegmentResult;
import dev.treepo.worker.DecodeWorker;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One tree node: asks a worker to decode its segment, decodes the tokens to text and reports the
 * result to its tree root, then stops. Its KV sequence stays in the worker until the tree ends, so
 * its children and fallback regrowths fork from it.
 */
public final class SegmentNode {

    /** Messages a node accepts: only the worker's reply, adapted. */
    public sealed interface Command {}

    private record WrappedReply(DecodeWorker.SegmentReply reply) implements Command {}

    private SegmentNode() {}

    public static Behavior<Command> create(
            long treeId,
            SegmentRequest request,
            SamplingParams sampling,
            long seed,
            ActorRef<DecodeWorker.Command> worker,
            Tokenizer tokenizer,
            ActorRef<TreeRoot.Command> root) {
        return Behaviors.setup(context -> {
            ActorRef<DecodeWorker.SegmentReply> replyTo = context.messageAdapter(DecodeWorker.SegmentReply.class, WrappedReply::new);
            worker.tell(new DecodeWorker.DecodeSegment(treeId, request.nodeId(), request.parentNodeId(),
                    request.keepTokens(), request.appendTokens(), request.maxNewTokens(), sampling, seed, replyTo));
            return Behaviors.receive(Command.class)
                    .onMessage(WrappedReply.class, wrapped -> onReply(wrapped.reply(), tokenizer, root))
                    .build();
        });
    }

    private static Behavior<Command> onReply(
            DecodeWorker.SegmentReply reply, Tokenizer tokenizer, ActorRef<TreeRoot.Command> root) {
        if (reply instanceof DecodeWorker.SegmentDecoded decoded) {
            String text = tokenizer.decode(decoded.tokens());
            SegmentResult result = new SegmentResult(decoded.nodeId(), decoded.tokens(), decoded.logprobs(),
                    decoded.endedWithEos(), text);
            root.tell(new TreeRoot.NodeDecoded(result, decoded.tokensForwarded(), decoded.policyVersion(),
                    decoded.workerId()));
        } else if (reply instanceof DecodeWorker.SegmentFailed failed) {
            root.tell(new TreeRoot.NodeFailed(failed.nodeId(), failed.reason()));
        }
        return Behaviors.stopped();
    }
}
