package dev.treepo.rollout;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.tree.Scenario;
import dev.treepo.tree.TreeConfig;
import dev.treepo.worker.DecodeWorker;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Runs rollouts: one {@link TreeRoot} per prompt, at most {@code maxConcurrentTrees} at a time
 * across all rollouts, and one reply per rollout once every tree has finished or failed.
 *
 * <p>Every segment of a tree goes to the same worker, the one that holds the tree's KV blocks; a new
 * tree goes to the worker with the fewest running trees. The cap keeps the KV caches from filling
 * with half-grown trees that all wait for blocks.
 */
public final class RolloutManager extends AbstractBehavior<RolloutManager.Command> {

    /** Messages a rollout manager accepts. */
    public sealed interface Command {}

    /** A prompt to grow: its index in the caller's batch and its tokens. */
    public record PromptJob(int promptIndex, int[] promptTokens) {}

    /**
     * Grows one tree per prompt with the given tree settings and sampling; the tree of prompt i
     * uses the seed derived from {@code seed} and i, so results do not depend on scheduling.
     * {@code rolloutId} is the caller's label, returned in the reply.
     */
    public record RunRollout(
            long rolloutId,
            List<PromptJob> prompts,
            TreeConfig tree,
            Scenario scenario,
            SamplingParams sampling,
            long seed,
            ActorRef<RolloutFinished> replyTo)
            implements Command, RolloutRouter.Command {}

    /** Every tree of a rollout, ordered by prompt index, plus the trees that failed. */
    public record RolloutFinished(
            long rolloutId,
            List<TreeRoot.TreeFinished> trees,
            List<TreeRoot.TreeFailed> failures,
            double seconds) {

        /** Returns the number of segments decoded, the unit the reference runs call inference calls. */
        public long inferenceCalls() {
            return trees.stream().mapToLong(tree -> tree.stats().segments()).sum();
        }

        public long tokensForwarded() {
            return trees.stream().mapToLong(TreeRoot.TreeFinished::tokensForwarded).sum();
        }

        public long tokensInLeaves() {
            return trees.stream().mapToLong(tree -> tree.stats().tokensInLeaves()).sum();
        }
    }

    private record WrappedOutcome(TreeRoot.Outcome outcome) implements Command {}

    public static Behavior<Command> create(
            List<ActorRef<DecodeWorker.Command>> workers, Tokenizer tokenizer, int maxConcurrentTrees) {
        return Behaviors.setup(context -> new RolloutManager(context, workers, tokenizer, maxConcurrentTrees));
    }

    private final List<ActorRef<DecodeWorker.Command>> workers;
    private final int[] treesPerWorker;
    private final Map<Long, Integer> workerOfTree = new HashMap<>();
    private final Tokenizer tokenizer;
    private final int maxConcurrentTrees;
    private final ActorRef<TreeRoot.Outcome> outcomeAdapter;
    private final ArrayDeque<PendingTree> queue = new ArrayDeque<>();
    private final Map<Long, RolloutState> rolloutOfTree = new HashMap<>();
    private long nextTreeId;
    private int runningTrees;

    private RolloutManager(
            ActorContext<Command> context,
            List<ActorRef<DecodeWorker.Command>> workers,
            Tokenizer tokenizer,
            int maxConcurrentTrees) {
        super(context);
        if (maxConcurrentTrees < 1) {
            throw new IllegalArgumentException("maxConcurrentTrees must be >= 1, got " + maxConcurrentTrees);
        }
        if (workers.isEmpty()) {
            throw new IllegalArgumentException("a rollout manager needs at least one worker");
        }
        this.workers = List.copyOf(workers);
        this.treesPerWorker = new int[workers.size()];
        this.tokenizer = tokenizer;
        this.maxConcurrentTrees = maxConcurrentTrees;
        this.outcomeAdapter = context.messageAdapter(TreeRoot.Outcome.class, WrappedOutcome::new);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RunRollout.class, this::onRunRollout)
                .onMessage(WrappedOutcome.class, wrapped -> onOutcome(wrapped.outcome()))
                .build();
    }

    private Behavior<Command> onRunRollout(RunRollout run) {
        getContext().getLog().debug("Rollout {} started with {} prompts", run.rolloutId(), run.prompts().size());
        RolloutState state = new RolloutState(run, System.nanoTime());
        if (run.prompts().isEmpty()) {
            finish(state);
            return this;
        }
        for (PromptJob prompt : run.prompts()) {
            queue.add(new PendingTree(state, prompt));
        }
        startQueued();
        return this;
    }

    private Behavior<Command> onOutcome(TreeRoot.Outcome outcome) {
        runningTrees--;
        treesPerWorker[workerOfTree.remove(outcome.treeId())]--;
        RolloutState state = rolloutOfTree.remove(outcome.treeId());
        if (outcome instanceof TreeRoot.TreeFinished finished) {
            state.trees.add(finished);
        } else if (outcome instanceof TreeRoot.TreeFailed failed) {
            state.failures.add(failed);
        }
        if (state.trees.size() + state.failures.size() == state.run.prompts().size()) {
            finish(state);
        }
        startQueued();
        return this;
    }

    private void startQueued() {
        while (runningTrees < maxConcurrentTrees && !queue.isEmpty()) {
            PendingTree pending = queue.poll();
            RunRollout run = pending.rollout.run;
            long treeId = nextTreeId++;
            long treeSeed = TreeRoot.mix(run.seed(), pending.prompt.promptIndex());
            rolloutOfTree.put(treeId, pending.rollout);
            runningTrees++;
            int worker = leastLoadedWorker();
            treesPerWorker[worker]++;
            workerOfTree.put(treeId, worker);
            getContext().spawn(
                    TreeRoot.create(treeId, pending.prompt.promptIndex(), pending.prompt.promptTokens(), run.tree(),
                            run.scenario(), run.sampling(), treeSeed, workers.get(worker), tokenizer, outcomeAdapter),
                    "tree-" + treeId);
        }
    }

    private int leastLoadedWorker() {
        int best = 0;
        for (int i = 1; i < treesPerWorker.length; i++) {
            if (treesPerWorker[i] < treesPerWorker[best]) {
                best = i;
            }
        }
        return best;
    }

    private void finish(RolloutState state) {
        state.trees.sort(Comparator.comparingInt(TreeRoot.TreeFinished::promptIndex));
        double seconds = (System.nanoTime() - state.startNanos) / 1e9;
        state.run.replyTo().tell(new RolloutFinished(state.run.rolloutId(), List.copyOf(state.trees),
                List.copyOf(state.failures), seconds));
    }

    private record PendingTree(RolloutState rollout, PromptJob prompt) {}

    private static final class RolloutState {
        final RunRollout run;
        final long startNanos;
        final List<TreeRoot.TreeFinished> trees = new ArrayList<>();
        final List<TreeRoot.TreeFailed> failures = new ArrayList<>();

        RolloutState(RunRollout run, long startNanos) {
            this.run = run;
            this.startNanos = startNanos;
        }
    }
}
