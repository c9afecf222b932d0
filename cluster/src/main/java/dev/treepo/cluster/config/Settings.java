package dev.treepo.cluster.config;

import static dev.treepo.cluster.config.RangeChecks.atLeast;
import static dev.treepo.cluster.config.RangeChecks.folderName;
import static dev.treepo.cluster.config.RangeChecks.greaterThan;
import static dev.treepo.cluster.config.RangeChecks.inHalfOpenRange;
import static dev.treepo.cluster.config.RangeChecks.inRightOpenRange;
import static dev.treepo.cluster.config.RangeChecks.nonNegative;
import static dev.treepo.cluster.config.RangeChecks.notBlank;
import static dev.treepo.cluster.config.RangeChecks.pathOrEmpty;
import static dev.treepo.cluster.config.RangeChecks.positive;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Typed configuration of one run: one record per block of conf/treepo.conf, with the keys of the
 * file in camelCase. Each record's constructor checks its own ranges and throws a
 * {@link SettingsException} naming the key, so a Settings built in code is checked as well as one
 * read by {@link SettingsLoader}.
 */
public record Settings(
    Run run,
    Model model,
    Task task,
    Warmup warmup,
    Rollout rollout,
    Advantage advantage,
    Train train,
    Eval eval,
    Inference inference) {

  public Settings {
    Objects.requireNonNull(run, "run");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(warmup, "warmup");
    Objects.requireNonNull(rollout, "rollout");
    Objects.requireNonNull(advantage, "advantage");
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(eval, "eval");
    Objects.requireNonNull(inference, "inference");
  }

  /**
   * Returns the output folder: run.dir when set, resolved like {@link #userPath}, else
   * runs/RUN_NAME under the working directory (the repository root when started by ./treepo).
   */
  public Path runDir() {
    return run.dir().isEmpty() ? Path.of("runs", run.name()) : userPath(run.dir());
  }

  /**
   * Resolves a path the user typed (model.path, run.dir, task files) against the folder the
   * command was started from, which ./treepo passes as the system property treepo.caller.dir
   * because it runs Java from the repository root. Absolute paths are returned unchanged.
   */
  public static Path userPath(String text) {
    Path path = Path.of(text);
    String callerDir = System.getProperty("treepo.caller.dir", "");
    return path.isAbsolute() || callerDir.isBlank() ? path : Path.of(callerDir).resolve(path);
  }

  /** Block {@code run}: name, output folder and the seed of the run. */
  public record Run(String name, String dir, long seed) {
    public Run {
      folderName("run.name", name);
      pathOrEmpty("run.dir", dir);
    }
  }

  /**
   * Block {@code model}: a folder with config.json, *.safetensors and tokenizer.json, or, when
   * path is empty, the built-in model of the given preset.
   */
  public record Model(String path, String preset) {
    public Model {
      pathOrEmpty("model.path", path);
      notBlank("model.preset", preset);
      if (!preset.equals("tiny")) {
        throw SettingsException.invalidValue("model.preset", preset, "tiny (the only built-in model)");
      }
    }
  }

  /** Block {@code task}: the problems to train and evaluate on. */
  public record Task(
      Kind name, long seed, int trainSize, int evalSize, String trainFile, String evalFile) {

    /** Problem source: generated arithmetic, or JSON Lines files. */
    public enum Kind implements ConfigEnum { ARITHMETIC, JSONL }

    public Task {
      Objects.requireNonNull(name, "task.name");
      positive("task.train-size", trainSize);
      positive("task.eval-size", evalSize);
      pathOrEmpty("task.train-file", trainFile);
      pathOrEmpty("task.eval-file", evalFile);
      if (name == Kind.JSONL) {
        notBlank("task.train-file", trainFile);
        notBlank("task.eval-file", evalFile);
      }
    }
  }

  /** Block {@code warmup}: supervised steps on worked solutions before RL. 0 steps skips it. */
  public record Warmup(int steps, int batchSize, double learningRate) {
    public Warmup {
      nonNegative("warmup.steps", steps);
      positive("warmup.batch-size", batchSize);
      positive("warmup.learning-rate", learningRate);
    }
  }

  /** Block {@code rollout}: how responses are sampled, as one tree or as N chains per prompt. */
  public record Rollout(
      Mode mode,
      int width,
      int segmentTokens,
      int maxDepth,
      int rootDivergence,
      int branchFactor,
      Allocation allocation,
      double allocationTemperature,
      int maxResponseTokens,
      Fallback fallback,
      Repetition repetition,
      Sampling sampling) {

    /** Tree rollouts (TreePO) or independent chains without branching. */
    public enum Mode implements ConfigEnum { TREE, INDEPENDENT }

    /** Split of the branch budget among the active paths. */
    public enum Allocation implements ConfigEnum { EVEN, LOGPROB, INVERSE_LOGPROB }

    public Rollout {
      Objects.requireNonNull(mode, "rollout.mode");
      positive("rollout.width", width);
      positive("rollout.segment-tokens", segmentTokens);
      positive("rollout.max-depth", maxDepth);
      positive("rollout.root-divergence", rootDivergence);
      positive("rollout.branch-factor", branchFactor);
      Objects.requireNonNull(allocation, "rollout.allocation");
      positive("rollout.allocation-temperature", allocationTemperature);
      nonNegative("rollout.max-response-tokens", maxResponseTokens);
      Objects.requireNonNull(fallback, "rollout.fallback");
      Objects.requireNonNull(repetition, "rollout.repetition");
      Objects.requireNonNull(sampling, "rollout.sampling");
      // A tree cannot start with more copies of a prompt than it has leaves. Independent mode
      // does not branch and ignores root-divergence.
      if (mode == Mode.TREE && rootDivergence > width) {
        throw SettingsException.invalidValue(
            "rollout.root-divergence", rootDivergence,
            "at most rollout.width (" + width + ") in tree mode");
      }
    }

    /** Returns the response limit in tokens: max-response-tokens, or when 0 the depth limit. */
    public int responseTokenLimit() {
      return maxResponseTokens > 0 ? maxResponseTokens : segmentTokens * maxDepth;
    }

    /** Returns the random-block cut size in tokens: the fallback's, or when 0 one segment. */
    public int fallbackBlockTokens() {
      return fallback.blockTokens() > 0 ? fallback.blockTokens() : segmentTokens;
    }
  }

  /** Block {@code rollout.fallback}: regrowing finished paths when a tree is short of leaves. */
  public record Fallback(Source source, Cut cut, int blockTokens) {

    /** Finished paths that may be regrown. */
    public enum Source implements ConfigEnum { CLEAN_FIRST, ANY }

    /** Cut point of a regrown path. */
    public enum Cut implements ConfigEnum { RANDOM_BLOCK, MIN_LOGPROB, FROM_START }

    public Fallback {
      Objects.requireNonNull(source, "rollout.fallback.source");
      Objects.requireNonNull(cut, "rollout.fallback.cut");
      nonNegative("rollout.fallback.block-tokens", blockTokens);
    }
  }

  /**
   * Block {@code rollout.repetition}: a path stops when one substring of windowChars characters
   * occurs minCount times in one segment.
   */
  public record Repetition(int windowChars, int minCount) {
    public Repetition {
      positive("rollout.repetition.window-chars", windowChars);
      // Every substring occurs once, so a count below 2 would stop every path.
      atLeast("rollout.repetition.min-count", minCount, 2);
    }
  }

  /** Block {@code rollout.sampling}: token sampling. A topK of 0 disables top-k. */
  public record Sampling(double temperature, double topP, int topK) {
    public Sampling {
      positive("rollout.sampling.temperature", temperature);
      inHalfOpenRange("rollout.sampling.top-p", topP, 0, 1);
      nonNegative("rollout.sampling.top-k", topK);
    }
  }

  /**
   * Block {@code advantage}: how rewards become per-leaf advantages. With the uniform-group filter
   * on, a step rolls out further batches of prompts until prompts-per-step prompts with mixed
   * rewards are collected, at most maxRolloutsPerStep batches.
   */
  public record Advantage(Estimator estimator, boolean filterUniformGroups, int maxRolloutsPerStep) {

    /** Sub-group baselines per shared ancestor (TreePO), or group mean and std (GRPO). */
    public enum Estimator implements ConfigEnum { TREEPO, GRPO }

    public Advantage {
      Objects.requireNonNull(estimator, "advantage.estimator");
      positive("advantage.max-rollouts-per-step", maxRolloutsPerStep);
    }
  }

  /** Block {@code train}: the RL steps after the warm-up. A klCoef of 0 turns the KL term off. */
  public record Train(
      int steps,
      int promptsPerStep,
      double learningRate,
      double weightDecay,
      double gradClip,
      int miniBatches,
      double clipLow,
      double clipHigh,
      double dualClip,
      double klCoef,
      int checkpointEvery) {
    public Train {
      nonNegative("train.steps", steps);
      positive("train.prompts-per-step", promptsPerStep);
      positive("train.learning-rate", learningRate);
      nonNegative("train.weight-decay", weightDecay);
      positive("train.grad-clip", gradClip);
      positive("train.mini-batches", miniBatches);
      if (miniBatches > promptsPerStep) {
        throw SettingsException.invalidValue(
            "train.mini-batches", miniBatches,
            "at most train.prompts-per-step (" + promptsPerStep + ")");
      }
      // The PPO ratio is clipped to [1 - clipLow, 1 + clipHigh], so clipLow below 1 keeps the
      // lower bound positive.
      inRightOpenRange("train.clip-low", clipLow, 0, 1);
      nonNegative("train.clip-high", clipHigh);
      // Dual-clip PPO caps the probability ratio of a negative-advantage token at dualClip, so
      // a value of 1 or less would cut into the ordinary PPO range around a ratio of 1.
      greaterThan("train.dual-clip", dualClip, 1);
      nonNegative("train.kl-coef", klCoef);
      nonNegative("train.checkpoint-every", checkpointEvery);
    }
  }

  /** Block {@code eval}: samples per problem for the mean-over-N accuracy, and a problem limit. */
  public record Eval(int samples, int maxProblems) {
    public Eval {
      positive("eval.samples", samples);
      positive("eval.max-problems", maxProblems);
    }
  }

  /** Block {@code inference}: the inference workers and their KV cache. */
  public record Inference(InferenceDevice device, int workers, Kv kv, int maxBatch) {
    public Inference {
      Objects.requireNonNull(device, "inference.device");
      positive("inference.workers", workers);
      Objects.requireNonNull(kv, "inference.kv");
      positive("inference.max-batch", maxBatch);
    }
  }

  /** Block {@code inference.kv}: KV cache of blockTokens tokens per block and blocks in all. */
  public record Kv(int blockTokens, int blocks) {
    public Kv {
      positive("inference.kv.block-tokens", blockTokens);
      positive("inference.kv.blocks", blocks);
    }
  }
}
