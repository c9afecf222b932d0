package dev.treepo.trainer;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.rollout.RolloutManager;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.rollout.TreeRoot.TreeFinished;
import dev.treepo.task.Problem;
import dev.treepo.task.PromptFormat;
import dev.treepo.task.RewardFunction;
import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.Scenario;
import dev.treepo.tree.TreeConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Measures held-out accuracy of the policy the workers hold now: one greedy chain per problem, then
 * N sampled chains per problem, both through the ordinary rollout machinery in independent mode.
 * Replies once with {@link Evaluated} and stops.
 */
public final class Evaluator extends AbstractBehavior<Evaluator.Command> {

    /** Messages an evaluator accepts: only rollout replies, adapted. */
    public sealed interface Command {}

    private record RolloutDone(RolloutFinished rollout) implements Command {}

    /** The accuracy, or the error that prevented it (then {@code result} is null). */
    public record Evaluated(EvalResult result, String error) {}

    /** Problems, reward and sampling of one evaluation; {@code tree} supplies segment and length limits. */
    public record Plan(
            List<Problem> problems,
            PromptFormat format,
            RewardFunction reward,
            Scenario scenario,
            TreeConfig tree,
            SamplingParams sampling,
            int samples,
            long seed) {}

    /**
     * Returns the sampling seed of every evaluation of a run with seed {@code runSeed}. Before and
     * after RL use the same seed, so the two differ by the policy alone, and {@code treepo eval} on
     * any checkpoint of the run reproduces the run's figures.
     */
    public static long seed(long runSeed) {
        return runSeed + 1;
    }

    public static Behavior<Command> create(
            Plan plan, Tokenizer tokenizer, ActorRef<RolloutManager.RunRollout> rollouts, ActorRef<Evaluated> replyTo) {
        return Behaviors.setup(context -> new Evaluator(context, plan, tokenizer, rollouts, replyTo));
    }

    private final Plan plan;
    private final Tokenizer tokenizer;
    private final ActorRef<RolloutManager.RunRollout> rollouts;
    private final ActorRef<Evaluated> replyTo;
    private final ActorRef<RolloutFinished> adapter;
    private final List<PromptJob> jobs;
    private RolloutFinished greedy;

    private Evaluator(
            ActorContext<Command> context,
            Plan plan,
            Tokenizer tokenizer,
            ActorRef<RolloutManager.RunRollout> rollouts,
            ActorRef<Evaluated> replyTo) {
        super(context);
        this.plan = plan;
        this.tokenizer = tokenizer;
        this.rollouts = rollouts;
        this.replyTo = replyTo;
        this.adapter = context.messageAdapter(RolloutFinished.class, RolloutDone::new);
        this.jobs = new ArrayList<>(plan.problems().size());
        for (int i = 0; i < plan.problems().size(); i++) {
            jobs.add(new PromptJob(i, tokenizer.encode(plan.format().prompt(plan.problems().get(i)))));
        }
        rollouts.tell(new RolloutManager.RunRollout(0, jobs, plan.tree().independent(1), plan.scenario(),
                SamplingParams.greedy(), plan.seed(), adapter));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(RolloutDone.class, this::onRolloutDone).build();
    }

    private Behavior<Command> onRolloutDone(RolloutDone done) {
        RolloutFinished rollout = done.rollout();
        if (!rollout.failures().isEmpty()) {
            String error = "evaluation rollout failed for " + rollout.failures().size() + " problems, first: "
                    + rollout.failures().get(0).reason();
            getContext().getLog().error(error);
            replyTo.tell(new Evaluated(null, error));
            return Behaviors.stopped();
        }
        if (greedy == null) {
            greedy = rollout;
            rollouts.tell(new RolloutManager.RunRollout(1, jobs, plan.tree().independent(plan.samples()),
                    plan.scenario(), plan.sampling(), plan.seed() + 1, adapter));
            return this;
        }
        EvalResult result = EvalResult.score(greedy.trees(), rollout.trees(), plan.problems(), tokenizer, plan.reward());
        logGreedyMisses();
        for (LevelAccuracy level : result.levels()) {
            getContext().getLog().info("held-out level {}: {} problems, greedy {}%, mean over {} samples {}%",
                    level.level(), level.problems(), String.format("%.1f", 100 * level.greedyAccuracy()),
                    result.samples(), String.format("%.1f", 100 * level.sampledAccuracy()));
        }
        replyTo.tell(new Evaluated(result, null));
        return Behaviors.stopped();
    }

    /** Logs, at DEBUG, each problem that greedy decoding got wrong, to show where the model fails. */
    private void logGreedyMisses() {
        if (!getContext().getLog().isDebugEnabled()) {
            return;
        }
        for (TreeFinished tree : greedy.trees()) {
            Problem problem = plan.problems().get(tree.promptIndex());
            for (Leaf leaf : tree.leaves()) {
                String response = tokenizer.decode(leaf.responseTokens());
                if (plan.reward().score(problem, response) < 1.0) {
                    getContext().getLog().debug("greedy miss at level {}: {} expected {}, response \"{}\"",
                            problem.level(), problem.question(), problem.answer(), response.replace("\n", "\\n"));
                }
            }
        }
    }
}
