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
    Checkpoint checkpoint,
    Eval eval,
    Inference inference,
    Cluster cluster) {

  public Settings {
    Objects.requireNonNull(run, "run");
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(warmup, "warmup");
    Objects.requireNonNull(rollout, "rollout");
    Objects.requireNonNull(advantage, "advantage");
    Objects.requireNonNull(train, "train");
    Objects.requireNonNull(checkpoint, "checkpoint");
    Objects.requireNonNull(eval, "eval");
    Objects.requireNonNull(inference, "inference");
    Objects.requireNonNull(cluster, "cluster");
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

  /**
   * Block {@code task}: the problems to train and evaluate on, and the prompt layout. A
   * promptFormat of AUTO picks ChatML when the tokenizer has the {@code <|im_start|>} and
   * {@code <|im_end|>} tokens, else the plain layout; systemPrompt is ChatML's system turn.
   */
  public record Task(
      Kind name,
      long seed,
      int trainSize,
      int evalSize,
      String trainFile,
      String evalFile,
      Format promptFormat,
      String systemPrompt) {

    /** Problem source: generated arithmetic, or JSON Lines files. */
    public enum Kind implements ConfigEnum { ARITHMETIC, JSONL }

    /** Prompt layout: chosen from the tokenizer, plain "Q: ...\nA: ", or ChatML. */
    public enum Format implements ConfigEnum { AUTO, PLAIN, CHATML }

    public Task {
      Objects.requireNonNull(promptFormat, "task.prompt-format");
      Objects.requireNonNull(systemPrompt, "task.system-prompt");
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
      int checkpointEvery,
      int maxStaleness,
      boolean resetOptimizer) {
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
      nonNegative("train.max-staleness", maxStaleness);
    }
  }

  /**
   * Block {@code checkpoint}: how model weights are saved. Above maxShardBytes of tensor data the
   * weights are split into shards with an index, as transformers' max_shard_size does.
   */
  public record Checkpoint(long maxShardBytes) {
    public Checkpoint {
      if (maxShardBytes <= 0) {
        throw SettingsException.invalidValue(
            "checkpoint.max-shard-bytes", maxShardBytes, "an integer > 0 (bytes)");
      }
    }
  }

  /** Block {@code eval}: samples per problem for the mean-over-N accuracy, and a problem limit. */
  public record Eval(int samples, int maxProblems) {
    public Eval {
      positive("eval.samples", samples);
      positive("eval.max-problems", maxProblems);
    }
  }

  /**
   * Block {@code inference}: the inference workers and their KV cache. Worker i runs on
   * workerDevices[i mod size], or on device when workerDevices is empty; the trainer's policy
   * lives on device.
   */
  public record Inference(
      InferenceDevice device, java.util.List<InferenceDevice> workerDevices, int workers, Kv kv, int maxBatch) {
    public Inference {
      Objects.requireNonNull(device, "inference.device");
      workerDevices = java.util.List.copyOf(workerDevices);
      positive("inference.workers", workers);
      Objects.requireNonNull(kv, "inference.kv");
      positive("inference.max-batch", maxBatch);
    }

    /** Returns the device of worker {@code worker}. */
    public InferenceDevice deviceOf(int worker) {
      return workerDevices.isEmpty() ? device : workerDevices.get(worker % workerDevices.size());
    }
  }

  /**
   * Block {@code inference.kv}: KV cache of blockTokens tokens per block and blocks in all. With
   * keepAcrossVersions false, a worker drops every cached sequence when it loads a new policy
   * version, so KV computed by an older version never serves a newer one.
   */
  public record Kv(int blockTokens, int blocks, boolean keepAcrossVersions) {
    public Kv {
      positive("inference.kv.block-tokens", blockTokens);
      positive("inference.kv.blocks", blocks);
    }
  }

  /**
   * Block {@code cluster}: where this node listens, the seed nodes it joins, and limits of the
   * traffic between nodes. Only {@code treepo node} reads it; {@code treepo train} runs in one
   * JVM without a network.
   */
  public record Cluster(
      String host,
      int port,
      java.util.List<String> seedNodes,
      int minInferenceNodes,
      int maxMessageBytes,
      int weightChunkBytes,
      int downAfterSeconds) {
    public Cluster {
      notBlank("cluster.host", host);
      if (port < 0 || port > 65535) {
        throw SettingsException.invalidValue("cluster.port", port, "a TCP port from 0 to 65535 (0: any free port)");
      }
      seedNodes = java.util.List.copyOf(seedNodes);
      for (String seed : seedNodes) {
        boolean valid = seed.matches("[^:/@\\s]+:\\d{1,5}");
        if (valid) {
          int seedPort = Integer.parseInt(seed.substring(seed.lastIndexOf(':') + 1));
          valid = seedPort >= 1 && seedPort <= 65535;
        }
        if (!valid) {
          throw SettingsException.invalidValue(
              "cluster.seed-nodes", seedNodes, "HOST:PORT entries with a port from 1 to 65535,"
                  + " e.g. [\"10.0.0.5:25520\"]");
        }
      }
      positive("cluster.min-inference-nodes", minInferenceNodes);
      atLeast("cluster.max-message-bytes", maxMessageBytes, 32 * 1024);
      positive("cluster.weight-chunk-bytes", weightChunkBytes);
      if (weightChunkBytes > maxMessageBytes / 2) {
        throw SettingsException.invalidValue(
            "cluster.weight-chunk-bytes", weightChunkBytes,
            "at most half of cluster.max-message-bytes (" + maxMessageBytes + ")");
      }
      positive("cluster.down-after-seconds", downAfterSeconds);
    }
  }
}
