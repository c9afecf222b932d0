package dev.treepo.cluster.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * Reads {@link Settings} from a configuration rooted at {@code treepo}, checking the type of each
 * value. Errors name the key and where its value came from.
 */
final class SettingsReader {

  private final Config config;

  private SettingsReader(Config config) {
    this.config = config;
  }

  /**
   * Reads every key of the default configuration from {@code config}.
   *
   * @throws SettingsException on a missing key, a wrong type or a value out of range
   */
  static Settings read(Config config) {
    SettingsReader reader = new SettingsReader(config);
    try {
      return reader.settings();
    } catch (SettingsException e) {
      throw e.key() == null ? e : e.locatedAt(reader.originOf(e.key()));
    }
  }

  /** Formats where a value came from: FILE:LINE for files, else the origin's description. */
  static String describe(ConfigOrigin origin) {
    String source = origin.filename() != null ? origin.filename() : origin.resource();
    if (source == null) {
      return origin.description();
    }
    return origin.lineNumber() > 0 ? source + ":" + origin.lineNumber() : source;
  }

  private Settings settings() {
    return new Settings(
        new Settings.Run(string("run.name"), string("run.dir"), longValue("run.seed")),
        new Settings.Model(string("model.path"), string("model.preset")),
        task(),
        new Settings.Warmup(
            integer("warmup.steps"), integer("warmup.batch-size"), number("warmup.learning-rate")),
        rollout(),
        new Settings.Advantage(
            choice("advantage.estimator", Settings.Advantage.Estimator.class),
            flag("advantage.filter-uniform-groups"),
            integer("advantage.max-rollouts-per-step")),
        train(),
        new Settings.Checkpoint(longValue("checkpoint.max-shard-bytes")),
        new Settings.Eval(integer("eval.samples"), integer("eval.max-problems")),
        inference(),
        cluster());
  }

  private Settings.Task task() {
    return new Settings.Task(
        choice("task.name", Settings.Task.Kind.class),
        longValue("task.seed"),
        integer("task.train-size"),
        integer("task.eval-size"),
        string("task.train-file"),
        string("task.eval-file"),
        choice("task.prompt-format", Settings.Task.Format.class),
        string("task.system-prompt"));
  }

  private Settings.Rollout rollout() {
    Settings.Fallback fallback =
        new Settings.Fallback(
            choice("rollout.fallback.source", Settings.Fallback.Source.class),
            choice("rollout.fallback.cut", Settings.Fallback.Cut.class),
            integer("rollout.fallback.block-tokens"));
    Settings.Repetition repetition =
        new Settings.Repetition(
            integer("rollout.repetition.window-chars"), integer("rollout.repetition.min-count"));
    Settings.Sampling sampling =
        new Settings.Sampling(
            number("rollout.sampling.temperature"),
            number("rollout.sampling.top-p"),
            integer("rollout.sampling.top-k"));
    return new Settings.Rollout(
        choice("rollout.mode", Settings.Rollout.Mode.class),
        integer("rollout.width"),
        integer("rollout.segment-tokens"),
        integer("rollout.max-depth"),
        integer("rollout.root-divergence"),
        integer("rollout.branch-factor"),
        choice("rollout.allocation", Settings.Rollout.Allocation.class),
        number("rollout.allocation-temperature"),
        integer("rollout.max-response-tokens"),
        fallback,
        repetition,
        sampling);
  }

  private Settings.Train train() {
    return new Settings.Train(
        integer("train.steps"),
        integer("train.prompts-per-step"),
        number("train.learning-rate"),
        number("train.weight-decay"),
        number("train.grad-clip"),
        integer("train.mini-batches"),
        number("train.clip-low"),
        number("train.clip-high"),
        number("train.dual-clip"),
        number("train.kl-coef"),
        integer("train.checkpoint-every"),
        integer("train.max-staleness"),
        flag("train.reset-optimizer"));
  }

  private Settings.Inference inference() {
    return new Settings.Inference(
        InferenceDevice.parse("inference.device", string("inference.device")),
        workerDevices(),
        integer("inference.workers"),
        new Settings.Kv(
            integer("inference.kv.block-tokens"),
            integer("inference.kv.blocks"),
            flag("inference.kv.keep-across-versions")),
        integer("inference.max-batch"));
  }

  private Settings.Cluster cluster() {
    return new Settings.Cluster(
        string("cluster.host"),
        integer("cluster.port"),
        stringList("cluster.seed-nodes"),
        integer("cluster.min-inference-nodes"),
        integer("cluster.max-message-bytes"),
        integer("cluster.weight-chunk-bytes"),
        integer("cluster.down-after-seconds"));
  }

  private java.util.List<InferenceDevice> workerDevices() {
    java.util.List<String> texts = stringList("inference.worker-devices");
    java.util.List<InferenceDevice> devices = new java.util.ArrayList<>();
    for (String text : texts) {
      try {
        devices.add(InferenceDevice.parse("inference.worker-devices", text));
      } catch (SettingsException e) {
        throw SettingsException.invalidValue(
            "inference.worker-devices", texts, "a list of \"cpu\" or \"gpu:N\" entries");
      }
    }
    return devices;
  }

  private java.util.List<String> stringList(String key) {
    try {
      return config.getStringList(key);
    } catch (ConfigException.Missing e) {
      throw missingOrNull(key, e);
    } catch (ConfigException.WrongType e) {
      throw wrongType(key, "a list of strings, e.g. [\"10.0.0.5:25520\"]; on the command line quote the"
          + " whole setting so the shell keeps the inner quotes: '" + key + "=[\"HOST:PORT\"]'");
    }
  }

  private String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException.Missing e) {
      throw missingOrNull(key, e);
    } catch (ConfigException.WrongType e) {
      throw wrongType(key, "a string");
    }
  }

  private boolean flag(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException.Missing e) {
      throw missingOrNull(key, e);
    } catch (ConfigException.WrongType e) {
      throw wrongType(key, "true or false");
    }
  }

  private double number(String key) {
    try {
      return config.getDouble(key);
    } catch (ConfigException.Missing e) {
      throw missingOrNull(key, e);
    } catch (ConfigException.WrongType e) {
      throw wrongType(key, "a number");
    }
  }

  private int integer(String key) {
    long value = wholeNumber(key, Integer.MIN_VALUE, Integer.MAX_VALUE, "an integer");
    return (int) value;
  }

  private long longValue(String key) {
    return wholeNumber(key, Long.MIN_VALUE, Long.MAX_VALUE, "a 64-bit integer");
  }

  /**
   * Reads a whole number in [min, max]. Config.getInt would silently truncate 1.5 to 1, so the
   * value is read as a Number and checked here.
   */
  private long wholeNumber(String key, long min, long max, String expected) {
    Number number;
    try {
      number = config.getNumber(key);
    } catch (ConfigException.Missing e) {
      throw missingOrNull(key, e);
    } catch (ConfigException.WrongType e) {
      throw wrongType(key, expected);
    }
    BigInteger whole;
    try {
      whole = new BigDecimal(number.toString()).toBigIntegerExact();
    } catch (ArithmeticException | NumberFormatException notWhole) {
      // NumberFormatException: NaN or infinity, which Config reads from the strings "NaN" and
      // "Infinity".
      throw wrongType(key, expected);
    }
    boolean inRange =
        whole.compareTo(BigInteger.valueOf(min)) >= 0
            && whole.compareTo(BigInteger.valueOf(max)) <= 0;
    if (!inRange) {
      throw wrongType(key, expected);
    }
    return whole.longValue();
  }

  private <E extends Enum<E> & ConfigEnum> E choice(String key, Class<E> type) {
    return ConfigEnum.parse(type, key, string(key));
  }

  private SettingsException wrongType(String key, String expected) {
    String rendered = config.getValue(key).render(ConfigRenderOptions.concise());
    return SettingsException.invalidRenderedValue(key, rendered, expected);
  }

  private SettingsException missingOrNull(String key, ConfigException.Missing e) {
    if (e instanceof ConfigException.Null) {
      return SettingsException.invalidRenderedValue(key, "null", "a value as in conf/treepo.conf");
    }
    return new SettingsException(
        "missing key " + key + ": the configuration must set every key of conf/treepo.conf", e);
  }

  private String originOf(String key) {
    try {
      return config.hasPathOrNull(key) ? describe(config.getValue(key).origin()) : null;
    } catch (ConfigException e) {
      return null;
    }
  }
}
