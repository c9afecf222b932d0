package dev.treepo.trainer;

import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.model.train.PolicyTrainer;
import dev.treepo.model.train.RlStats;
import dev.treepo.model.train.SftStats;
import dev.treepo.model.train.TrainSequence;
import dev.treepo.policy.PolicyWeights;
import dev.treepo.rollout.RolloutManager;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.rollout.RolloutManager.RolloutFinished;
import dev.treepo.rollout.InferenceNode;
import dev.treepo.rollout.RolloutRouter;
import dev.treepo.rollout.RolloutRouter.WeightsPublished;
import dev.treepo.rollout.TreeRoot;
import dev.treepo.task.Problem;
import dev.treepo.task.PromptFormat;
import dev.treepo.task.RewardFunction;
import dev.treepo.tree.Scenario;
import dev.treepo.tree.TreeConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Drives a training run: supervised warm-up (when starting from scratch), held-out evaluation,
 * then RL steps of rollout, reward, tree advantage, policy update and weight publication, and a
 * final evaluation.
 *
 * <p>Every RL step is on-policy: the trainer publishes version v + 1 through the
 * {@link RolloutRouter} and waits until every inference node has loaded it, with a checksum equal
 * to the trainer's, before the next rollout starts. Trees grown under a version older than
 * {@code maxStaleness} versions behind the current one are rejected. Tensor work blocks, so spawn
 * this actor on its own dispatcher.
 */
public final class Trainer extends AbstractBehavior<Trainer.Command> {

    /** Messages a trainer accepts. */
    public sealed interface Command {}

    public record Start(ActorRef<TrainingFinished> replyTo) implements Command {}

    /**
     * End of a run. {@code before} is null when evaluation did not run; {@code error} is null on
     * success. {@code syncs} lists every weight publication, each with every node's checksum, which
     * the trainer has checked against its own.
     */
    public record TrainingFinished(
            EvalResult before, EvalResult after, Path finalCheckpoint, String error, List<WeightsPublished> syncs) {}

    private record WarmupStep(int step) implements Command {}

    private record RolloutDone(RolloutFinished rollout) implements Command {}

    private record WeightsSynced(WeightsPublished published) implements Command {}

    private record EvaluationDone(Evaluator.Evaluated evaluated) implements Command {}

    private enum Phase {
        WARMUP,
        SYNC,
        EVALUATION,
        RL_ROLLOUT,
        DONE
    }

    /**
     * The data, reward, scenario, rollout shape and sampling of a run, fixed from its start.
     * {@code maxStaleness} is how many versions behind the current policy a tree may be; 0 accepts
     * only trees grown entirely by the current version.
     */
    public record Job(
            List<Problem> trainProblems,
            List<Problem> evalProblems,
            PromptFormat format,
            RewardFunction reward,
            Scenario scenario,
            TreeConfig rolloutTree,
            SamplingParams sampling,
            long startVersion,
            int maxStaleness) {

        public Job {
            if (maxStaleness < 0) {
                throw new IllegalArgumentException("invalid setting: train.max-staleness must be >= 0, got " + maxStaleness);
            }
        }
    }

    public static Behavior<Command> create(
            TrainingSchedule settings,
            Job job,
            PolicyTrainer policy,
            Tokenizer tokenizer,
            CheckpointWriter checkpoints,
            ActorRef<RolloutRouter.Command> router) {
        return Behaviors.setup(context -> new Trainer(context, settings, job, policy, tokenizer, checkpoints, router));
    }

    private final TrainingSchedule settings;
    private final Job job;
    private final PolicyTrainer policy;
    private final Tokenizer tokenizer;
    private final CheckpointWriter checkpoints;
    private final ActorRef<RolloutRouter.Command> router;
    private final ActorRef<RolloutFinished> rolloutAdapter;
    private final ActorRef<WeightsPublished> weightsAdapter;
    private final List<WeightsPublished> syncs = new ArrayList<>();
    private final ActorRef<Evaluator.Evaluated> evaluationAdapter;
    private final RolloutScorer scorer;
    private final MetricsLog metrics;
    private final List<Integer> trainOrder;

    private ActorRef<TrainingFinished> replyTo;
    private Phase phase = Phase.WARMUP;
    private long version;
    private long publishedChecksum;
    private Runnable afterSync;
    private long nextRolloutId;
    private int rlStep;
    private int promptCursor;
    private StepBatch stepBatch;
    private EvalResult before;
    private boolean evaluatingAfter;
    private long runStartNanos;

    private Trainer(
            ActorContext<Command> context,
            TrainingSchedule settings,
            Job job,
            PolicyTrainer policy,
            Tokenizer tokenizer,
            CheckpointWriter checkpoints,
            ActorRef<RolloutRouter.Command> router) {
        super(context);
        this.settings = settings;
        this.job = job;
        this.policy = policy;
        this.tokenizer = tokenizer;
        this.checkpoints = checkpoints;
        this.router = router;
        this.version = job.startVersion();
        this.rolloutAdapter = context.messageAdapter(RolloutFinished.class, RolloutDone::new);
        this.weightsAdapter = context.messageAdapter(WeightsPublished.class, WeightsSynced::new);
        this.evaluationAdapter = context.messageAdapter(Evaluator.Evaluated.class, EvaluationDone::new);
        this.scorer = new RolloutScorer(tokenizer, job.reward(), settings.estimator(), settings.filterUniformGroups());
        this.metrics = new MetricsLog(settings.runDir().resolve("metrics.jsonl"));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < job.trainProblems().size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(settings.seed()));
        this.trainOrder = order;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Start.class, this::onStart)
                .onMessage(WarmupStep.class, this::onWarmupStep)
                .onMessage(WeightsSynced.class, this::onWeightsSynced)
                .onMessage(RolloutDone.class, this::onRolloutDone)
                .onMessage(EvaluationDone.class, this::onEvaluationDone)
                .build();
    }

    private Behavior<Command> onStart(Start start) {
        replyTo = start.replyTo();
        runStartNanos = System.nanoTime();
        metrics.moveAsideExisting();
        getContext().getLog().info("Training run started: {} warm-up steps, {} RL steps of {} prompts, run folder {}",
                settings.warmupSteps(), settings.rlSteps(), settings.promptsPerStep(), settings.runDir());
        if (settings.warmupSteps() > 0) {
            policy.setLearningRate(settings.warmupLearningRate());
            getContext().getSelf().tell(new WarmupStep(0));
        } else {
            publish(this::startEvaluation);
        }
        return this;
    }

    // ---- supervised warm-up ----

    private Behavior<Command> onWarmupStep(WarmupStep step) {
        int i = step.step();
        policy.setLearningRate(WarmupLearningRate.standard(settings.warmupLearningRate(), settings.warmupSteps()).at(i));
        List<TrainSequence> batch = new ArrayList<>(settings.warmupBatchSize());
        for (int b = 0; b < settings.warmupBatchSize(); b++) {
            Problem problem = job.trainProblems().get(nextTrainIndex());
            batch.add(supervisedSequence(problem));
        }
        SftStats stats = policy.sftStep(batch);
        if (i % 50 == 0 || i + 1 == settings.warmupSteps()) {
            getContext().getLog().info("warm-up step {}/{} loss {} ({} s)", i + 1, settings.warmupSteps(),
                    String.format("%.4f", stats.loss()), seconds(runStartNanos));
        }
        if (i + 1 < settings.warmupSteps()) {
            getContext().getSelf().tell(new WarmupStep(i + 1));
            return this;
        }
        promptCursor = 0;
        policy.setLearningRate(settings.learningRate());
        version++;
        PolicyWeights weights = new PolicyWeights(version, policy.weights());
        checkpoints.save(settings.runDir().resolve("warmup"), weights, policy.optimizerState(), 0);
        getContext().getLog().info("Warm-up finished; checkpoint {}", settings.runDir().resolve("warmup"));
        publish(weights, this::startEvaluation);
        return this;
    }

    private TrainSequence supervisedSequence(Problem problem) {
        int[] prompt = tokenizer.encode(job.format().prompt(problem));
        int[] target = tokenizer.encode(job.format().target(problem));
        int[] tokens = new int[prompt.length + target.length + 1];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(target, 0, tokens, prompt.length, target.length);
        tokens[tokens.length - 1] = tokenizer.eosId();
        return new TrainSequence(tokens, prompt.length, null, 0f);
    }

    // ---- weight publication ----

    private void publish(Runnable then) {
        publish(new PolicyWeights(version, policy.weights()), then);
    }

    private void publish(PolicyWeights weights, Runnable then) {
        phase = Phase.SYNC;
        afterSync = then;
        publishedChecksum = weights.checksum();
        router.tell(new RolloutRouter.PublishWeights(weights, publishedChecksum, weightsAdapter));
    }

    private Behavior<Command> onWeightsSynced(WeightsSynced synced) {
        WeightsPublished published = synced.published();
        if (phase != Phase.SYNC || published.version() != version) {
            getContext().getLog().warn("Ignoring the publication of version {} while version {} is current",
                    published.version(), version);
            return this;
        }
        String error = published.error();
        for (InferenceNode.PolicyLoaded node : published.nodes()) {
            if (error == null && node.checksum() != publishedChecksum) {
                error = "node " + node.nodeId() + " loaded policy version " + version + " with checksum "
                        + PolicyWeights.hex(node.checksum()) + " but the trainer published "
                        + PolicyWeights.hex(publishedChecksum) + "; the weight transfer corrupted data";
            }
        }
        if (error != null) {
            getContext().getLog().error("Publishing policy version {} failed: {}", version, error);
            failRun("publishing policy version " + version + " failed: " + error);
            return this;
        }
        syncs.add(published);
        getContext().getLog().info("Policy version {} loaded by {} node(s) in {} s, checksum {} everywhere",
                version, published.nodes().size(), fmt(published.seconds()), PolicyWeights.hex(publishedChecksum));
        afterSync.run();
        return this;
    }

    // ---- evaluation ----

    private void startEvaluation() {
        if (job.evalProblems().isEmpty()) {
            afterEvaluation(null);
            return;
        }
        phase = Phase.EVALUATION;
        Evaluator.Plan plan = new Evaluator.Plan(job.evalProblems(), job.format(), job.reward(), job.scenario(),
                job.rolloutTree(), job.sampling(), settings.evalSamples(), Evaluator.seed(settings.seed()));
        getContext().spawn(Evaluator.create(plan, tokenizer, router.narrow(), evaluationAdapter),
                evaluatingAfter ? "evaluation-after" : "evaluation-before");
    }

    private Behavior<Command> onEvaluationDone(EvaluationDone done) {
        EvalResult result = done.evaluated().result();
        if (result == null) {
            finishRun(null, done.evaluated().error());
            return this;
        }
        getContext().getLog().info("held-out accuracy ({}, policy version {}, {} problems): greedy {} +- {}, "
                        + "mean over {} samples {} +- {}",
                evaluatingAfter ? "after RL" : "before RL", version, result.problems(),
                pct(result.greedyAccuracy()), pct(result.greedyStdErr()), result.samples(),
                pct(result.sampledAccuracy()), pct(result.sampledStdErr()));
        afterEvaluation(result);
        return this;
    }

    private void afterEvaluation(EvalResult result) {
        if (!evaluatingAfter) {
            before = result;
            evaluatingAfter = true;
            if (settings.resetOptimizer() && settings.rlSteps() > 0) {
                // The warm-up's second moments come from small supervised gradients. Kept, they
                // inflated RL steps: held-out accuracy fell far more than with fresh moments.
                policy.resetOptimizer();
                getContext().getLog().info("RL starts with fresh AdamW moments (train.reset-optimizer)");
            }
            nextRlStep();
            return;
        }
        finishRun(result, null);
    }

    // ---- RL steps ----

    private void nextRlStep() {
        if (rlStep >= settings.rlSteps()) {
            startEvaluation();
            return;
        }
        phase = Phase.RL_ROLLOUT;
        stepBatch = new StepBatch();
        startStepRollout();
    }

    /** Rolls out the next promptsPerStep training prompts for the current step. */
    private void startStepRollout() {
        List<Problem> problems = new ArrayList<>(settings.promptsPerStep());
        for (int i = 0; i < settings.promptsPerStep(); i++) {
            problems.add(job.trainProblems().get(nextTrainIndex()));
        }
        List<int[]> promptTokens = encodePrompts(problems);
        List<PromptJob> jobs = new ArrayList<>();
        for (int i = 0; i < problems.size(); i++) {
            jobs.add(new PromptJob(i, promptTokens.get(i)));
        }
        stepBatch.pending(problems, promptTokens);
        long seed = settings.seed() * 1_000_003L + rlStep * 131L + stepBatch.rollouts();
        router.tell(new RolloutManager.RunRollout(nextRolloutId++, jobs, job.rolloutTree(), job.scenario(),
                job.sampling(), seed, rolloutAdapter));
    }

    private Behavior<Command> onRolloutDone(RolloutDone done) {
        RolloutFinished rollout = done.rollout();
        if (!rollout.failures().isEmpty()) {
            String error = rollout.failures().size() + " trees failed, first: " + rollout.failures().get(0).reason();
            getContext().getLog().error("Rollout {} failed: {}", rollout.rolloutId(), error);
            failRun(error);
            return this;
        }
        if (phase != Phase.RL_ROLLOUT) {
            return this;
        }
        for (TreeRoot.TreeFinished tree : rollout.trees()) {
            if (tree.leaves().size() != job.rolloutTree().width()) {
                failRun("tree of prompt " + tree.promptIndex() + " has " + tree.leaves().size() + " leaves instead of "
                        + job.rolloutTree().width() + "; this is a bug in the rollout, please report it with the log");
                return this;
            }
            if (tree.oldestPolicyVersion() < version - job.maxStaleness()) {
                String error = "tree of prompt " + tree.promptIndex() + " was grown by policy version "
                        + tree.oldestPolicyVersion() + ", more than train.max-staleness=" + job.maxStaleness()
                        + " versions behind the current version " + version;
                getContext().getLog().error("Rollout {} rejected: {}", rollout.rolloutId(), error);
                failRun(error);
                return this;
            }
        }
        stepBatch.add(rollout, scorer.score(rollout.trees(), stepBatch.problems(), stepBatch.promptTokens()));
        // Dynamic sampling: prompts whose leaves all scored the same carry no signal, so roll out more
        // prompts until the step has enough with mixed rewards (or the rollout budget is spent).
        boolean needMore = settings.filterUniformGroups()
                && stepBatch.promptsKept() < settings.promptsPerStep()
                && stepBatch.rollouts() < settings.maxRolloutsPerStep();
        if (needMore) {
            startStepRollout();
        } else {
            train();
        }
        return this;
    }

    private void train() {
        long trainStart = System.nanoTime();
        List<TrainSequence> sequences = stepBatch.sequences();
        RlStats stats = sequences.isEmpty()
                ? null
                : policy.rlStep(sequences, Math.min(settings.miniBatches(), sequences.size()));
        double trainSeconds = seconds(trainStart);
        rlStep++;
        version++;
        PolicyWeights weights = new PolicyWeights(version, policy.weights());
        if (settings.checkpointEvery() > 0 && rlStep % settings.checkpointEvery() == 0 && rlStep < settings.rlSteps()) {
            checkpoints.save(settings.runDir().resolve("checkpoint-" + rlStep), weights, policy.optimizerState(), rlStep);
        }
        logStep(stepBatch, stats, trainSeconds);
        publish(weights, this::nextRlStep);
    }

    private void logStep(StepBatch batch, RlStats stats, double trainSeconds) {
        getContext().getLog().info(
                "step {}/{} reward {} acc {} leaves {} trained prompts {} calls {} fwd {} leaf-tok {} rollout {}s train {}s",
                rlStep, settings.rlSteps(), fmt(batch.rewardMean()), fmt(batch.accuracy()), batch.leaves(),
                batch.promptsKept(), batch.inferenceCalls(), batch.tokensForwarded(), batch.tokensInLeaves(),
                fmt(batch.rolloutSeconds()), fmt(trainSeconds));
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", rlStep);
        line.put("reward_mean", batch.rewardMean());
        line.put("accuracy", batch.accuracy());
        line.put("leaves", batch.leaves());
        line.put("rollouts", batch.rollouts());
        line.put("prompts_trained", batch.promptsKept());
        line.put("inference_calls", batch.inferenceCalls());
        line.put("tokens_forwarded", batch.tokensForwarded());
        line.put("tokens_in_leaves", batch.tokensInLeaves());
        line.put("rollout_seconds", batch.rolloutSeconds());
        line.put("train_seconds", trainSeconds);
        line.put("policy_version", version);
        line.put("oldest_tree_version", batch.oldestPolicyVersion());
        if (stats != null) {
            line.put("loss", stats.loss());
            line.put("clip_fraction", stats.clipFraction());
            line.put("dual_clip_fraction", stats.dualClipFraction());
            line.put("grad_norm", stats.gradNorm());
            // Mean of old minus new log-prob over trained tokens: how far the update moved the policy.
            line.put("approx_kl", stats.approxKl());
            line.put("reference_kl", stats.referenceKl());
        }
        metrics.append(line);
    }

    // ---- end of run ----

    /** Saves the current policy so that no work is lost, then ends the run with {@code error}. */
    private void failRun(String error) {
        Path saved = settings.runDir().resolve("failed-step-" + rlStep);
        checkpoints.save(saved, new PolicyWeights(version, policy.weights()), policy.optimizerState(), rlStep);
        finishRun(null, error + "; the policy was saved to " + saved);
    }

    private void finishRun(EvalResult after, String error) {
        phase = Phase.DONE;
        Path finalDir = settings.runDir().resolve("final");
        if (error == null) {
            checkpoints.save(finalDir, new PolicyWeights(version, policy.weights()), policy.optimizerState(), rlStep);
            writeEvaluation(after);
            getContext().getLog().info("Training run finished in {} s; final checkpoint {}", seconds(runStartNanos), finalDir);
        }
        replyTo.tell(new TrainingFinished(before, after, error == null ? finalDir : null, error, List.copyOf(syncs)));
    }

    private void writeEvaluation(EvalResult after) {
        if (before == null || after == null) {
            return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("problems", after.problems());
        line.put("samples", after.samples());
        line.put("before", evalFields(before));
        line.put("after", evalFields(after));
        double greedyStdErrs = before.greedyImprovementInStdErrs(after);
        double sampledStdErrs = before.sampledImprovementInStdErrs(after);
        double greedyPaired = before.greedyPairedImprovementInStdErrs(after);
        double sampledPaired = before.sampledPairedImprovementInStdErrs(after);
        line.put("greedy_improvement_std_errs", greedyStdErrs);
        line.put("sampled_improvement_std_errs", sampledStdErrs);
        line.put("greedy_improvement_paired_std_errs", greedyPaired);
        line.put("sampled_improvement_paired_std_errs", sampledPaired);
        MetricsLog evalLog = new MetricsLog(settings.runDir().resolve("eval.jsonl"));
        evalLog.moveAsideExisting();
        evalLog.append(line);
        getContext().getLog().info("RL changed held-out accuracy: greedy {} -> {} ({} standard errors, {} paired), "
                        + "sampled {} -> {} ({} standard errors, {} paired), {} problems",
                pct(before.greedyAccuracy()), pct(after.greedyAccuracy()), fmt(greedyStdErrs), fmt(greedyPaired),
                pct(before.sampledAccuracy()), pct(after.sampledAccuracy()), fmt(sampledStdErrs), fmt(sampledPaired),
                after.problems());
    }

    // ---- helpers ----

    private static Map<String, Object> evalFields(EvalResult result) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("greedy_accuracy", result.greedyAccuracy());
        fields.put("greedy_std_err", result.greedyStdErr());
        fields.put("sampled_accuracy", result.sampledAccuracy());
        fields.put("sampled_std_err", result.sampledStdErr());
        return fields;
    }

    private int nextTrainIndex() {
        int index = trainOrder.get(promptCursor % trainOrder.size());
        promptCursor++;
        return index;
    }

    private List<int[]> encodePrompts(List<Problem> problems) {
        List<int[]> tokens = new ArrayList<>(problems.size());
        for (Problem problem : problems) {
            tokens.add(tokenizer.encode(job.format().prompt(problem)));
        }
        return tokens;
    }

    private static double seconds(long startNanos) {
        return Math.round((System.nanoTime() - startNanos) / 1e7) / 100.0;
    }

    private static String fmt(double value) {
        return String.format("%.3f", value);
    }

    private static String pct(double fraction) {
        return String.format("%.1f%%", 100 * fraction);
    }
}
