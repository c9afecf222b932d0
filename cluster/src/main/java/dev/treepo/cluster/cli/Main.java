package dev.treepo.cluster.cli;

import dev.treepo.cluster.bench.DecodeBench;
import dev.treepo.cluster.config.LoadedSettings;
import dev.treepo.cluster.config.SettingsException;
import dev.treepo.cluster.config.SettingsLoader;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the treepo command line: parses the arguments, loads the settings and runs one
 * of {@link Commands}.
 *
 * <p>Exit codes: 0 success, 1 failure, 2 invalid arguments or settings, otherwise the command's
 * own code. User errors print one message to stderr without a stack trace.
 */
public final class Main {

  /** Exit code for invalid arguments or settings. */
  public static final int EXIT_USAGE = 2;

  /** Exit code for a command that failed with an exception. */
  public static final int EXIT_FAILURE = 1;

  /**
   * System property with the folder the user ran treepo from. The launcher sets it because it
   * changes to the repository root, and relative --config and --checkpoint paths resolve
   * against it.
   */
  public static final String CALLER_DIR_PROPERTY = "treepo.caller.dir";

  private static final Logger log = LoggerFactory.getLogger(Main.class);

  private static final String HELP =
      """
      Usage: treepo COMMAND [OPTIONS] [KEY=VALUE ...]

      Trains a language model with reinforcement learning on TreePO tree rollouts.

      Commands:
        train   Run the supervised warm-up, then the RL steps, writing to the run folder.
        eval    Evaluate a checkpoint on the task's evaluation problems.
        bench   Compare tree rollouts with independent sampling: calls, tokens, time.
                treepo bench decode [--dir DIR] [--new-tokens N] instead times a random
                Qwen2.5-0.5B-shaped checkpoint: write, load, decode tokens/s, memory.
                treepo bench cluster [KEY=VALUE ...] measures rollout throughput with one and
                two inference processes and the bytes and seconds of a weight sync.
        node    Run one node of a cluster: treepo node --role trainer|inference|trainer,inference.
                The trainer node runs the training job and ends it; inference nodes serve
                rollouts until the trainer finishes. Keys of the cluster block set the address,
                the seed nodes and limits; conf/trainer.conf and conf/inference.conf are examples.
        logprobs  Print, as JSON, each given token's log-prob under a model folder (teacher-forced)
                and the argmax id at each position: treepo logprobs --model DIR --ids 1,35,110
        help    Print this help.

      Options:
        --config FILE      HOCON file that sets some keys inside a treepo { } block,
                           as conf/treepo.conf does.
        --checkpoint DIR   Checkpoint folder to evaluate (eval only, required).
        --role ROLES       Roles of a cluster node (node only, required): trainer,
                           inference, or both separated by a comma.
        --model DIR        Model folder (logprobs only, required).
        --ids ID,ID,...    Token ids to score (logprobs only, required).
        --dir DIR          Keep the checkpoint of bench decode in DIR (bench decode only).
        --new-tokens N     Tokens bench decode generates per sequence (bench decode only).
        KEY=VALUE          Set one key; KEY has no treepo. prefix, e.g. rollout.width=8.
                           VALUE is a HOCON number, boolean or "quoted string"; other
                           text is taken as a string, e.g. inference.device=gpu:0.
                           Quote a list for the shell: 'cluster.seed-nodes=["10.0.0.5:25520"]'.

      Settings apply in this order, later ones winning: the defaults in conf/treepo.conf,
      then --config, then KEY=VALUE. An unknown key is an error. The run folder is run.dir,
      or runs/RUN_NAME when run.dir is empty.

      Exit status: 0 success, 1 failure, 2 invalid arguments or settings.

      Examples:
        treepo train rollout.width=8 train.steps=2
        treepo train --config my-run.conf inference.device=gpu:0
        treepo eval --checkpoint CHECKPOINT_DIR eval.samples=8
        treepo node --role trainer --config conf/trainer.conf train.steps=2
        treepo node --role inference --config conf/inference.conf 'cluster.seed-nodes=["10.0.0.5:25520"]'
      """;

  private Main() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args, System.out, System.err, callerDir());
    } catch (Error e) {
      // Pekko's non-daemon threads would keep the JVM alive after main ends, so exit here.
      log.error("treepo failed", e);
      code = EXIT_FAILURE;
    }
    System.exit(code);
  }

  /**
   * Runs the command line {@code args} and returns the exit code, without calling System.exit.
   *
   * @param callerDir folder that relative --config and --checkpoint paths resolve against
   */
  static int run(String[] args, PrintStream out, PrintStream err, Path callerDir) {
    if (args.length >= 2 && args[0].equals("bench") && args[1].equals("decode")) {
      return DecodeBench.main(List.of(args).subList(2, args.length), out, err);
    }
    // "bench cluster" takes the settings of "bench"; only the word selects the other benchmark.
    boolean clusterBench = args.length >= 2 && args[0].equals("bench") && args[1].equals("cluster");
    if (clusterBench) {
      List<String> rest = new ArrayList<>(List.of(args));
      rest.remove(1);
      args = rest.toArray(String[]::new);
    }
    Invocation invocation;
    try {
      invocation = Invocation.parse(args, callerDir);
    } catch (UsageException e) {
      err.println("invalid argument: " + e.getMessage() + "; usage: " + e.usage());
      return EXIT_USAGE;
    }
    if (invocation.command() == Command.HELP) {
      out.print(HELP);
      return 0;
    }
    Path checkpoint = invocation.checkpoint();
    if (checkpoint != null && !Files.isDirectory(checkpoint)) {
      String problem =
          Files.exists(checkpoint) ? "checkpoint is not a folder" : "checkpoint folder not found";
      err.println(problem + ": " + checkpoint + "; pass a folder that train wrote");
      return EXIT_USAGE;
    }

    if (invocation.command() == Command.LOGPROBS) {
      return logprobs(invocation, out, err);
    }

    try {
      LoadedSettings loaded = SettingsLoader.load(invocation.configFile(), invocation.overrides());
      return switch (invocation.command()) {
        case TRAIN -> Commands.train(loaded.settings(), loaded.config());
        case EVAL -> Commands.eval(loaded.settings(), loaded.config(), checkpoint);
        case BENCH -> clusterBench
            ? Commands.benchCluster(loaded.settings(), loaded.config(), out)
            : Commands.bench(loaded.settings(), loaded.config());
        case NODE -> Commands.node(loaded.settings(), loaded.config(), invocation.roles(), out);
        case HELP, LOGPROBS -> throw new IllegalStateException("handled above");
      };
    } catch (SettingsException e) {
      err.println(e.getMessage());
      return EXIT_USAGE;
    } catch (IllegalArgumentException e) {
      // Invalid input found while starting: a bad data line, checkpoint or setting combination.
      err.println("invalid input: " + e.getMessage());
      return EXIT_USAGE;
    } catch (NoSuchFileException e) {
      // A path from the settings that does not exist is invalid input, like a bad value.
      err.println("invalid input: " + e.getMessage());
      return EXIT_USAGE;
    } catch (IOException | UncheckedIOException e) {
      err.println(invocation.command().word() + " failed: " + e.getMessage());
      return EXIT_FAILURE;
    } catch (RuntimeException e) {
      log.error("{} failed", invocation.command().word(), e);
      return EXIT_FAILURE;
    }
  }

  private static int logprobs(Invocation invocation, PrintStream out, PrintStream err) {
    int[] ids;
    try {
      ids = LogprobsCommand.parseIds(invocation.ids());
    } catch (IllegalArgumentException e) {
      err.println("invalid argument: " + e.getMessage() + "; usage: " + Command.LOGPROBS.usage());
      return EXIT_USAGE;
    }
    try {
      return LogprobsCommand.run(invocation.model(), ids, out);
    } catch (NoSuchFileException | IllegalArgumentException e) {
      err.println("invalid input: " + e.getMessage());
      return EXIT_USAGE;
    } catch (IOException | UncheckedIOException e) {
      err.println("logprobs failed: " + e.getMessage());
      return EXIT_FAILURE;
    }
  }

  private static Path callerDir() {
    String dir = System.getProperty(CALLER_DIR_PROPERTY, "");
    return dir.isBlank() ? Path.of("").toAbsolutePath() : Path.of(dir);
  }

  /** A command with the word that selects it and its one-line usage. */
  enum Command {
    TRAIN("train", "treepo train [--config FILE] [KEY=VALUE ...]"),
    EVAL("eval", "treepo eval --checkpoint DIR [--config FILE] [KEY=VALUE ...]"),
    BENCH("bench", "treepo bench [cluster] [--config FILE] [KEY=VALUE ...] or treepo bench decode [--dir DIR] [--new-tokens N]"),
    NODE("node", "treepo node --role trainer|inference|trainer,inference [--config FILE] [KEY=VALUE ...]"),
    LOGPROBS("logprobs", "treepo logprobs --model DIR --ids ID,ID,..."),
    HELP("help", "treepo help");

    static final String GENERAL_USAGE =
        "treepo {train|eval|bench|node|logprobs|help} [--checkpoint DIR] [--role ROLES] [--config FILE] [KEY=VALUE ...]";

    private final String word;
    private final String usage;

    Command(String word, String usage) {
      this.word = word;
      this.usage = usage;
    }

    String word() {
      return word;
    }

    String usage() {
      return usage;
    }

    static Command fromWord(String word) {
      if (word.equals("--help") || word.equals("-h")) {
        return HELP;
      }
      for (Command command : values()) {
        if (command.word.equals(word)) {
          return command;
        }
      }
      return null;
    }
  }

  /** Invalid command-line arguments; the message names the argument. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String usage;

    UsageException(String message, String usage) {
      super(message);
      this.usage = usage;
    }

    String usage() {
      return usage;
    }
  }

  /**
   * A parsed command line; configFile and checkpoint are absolute, or null when not given.
   *
   * @param overrides the KEY=VALUE arguments in the order given
   */
  record Invocation(
      Command command,
      Path configFile,
      Path checkpoint,
      List<String> overrides,
      Path model,
      String ids,
      Set<String> roles) {

    Invocation(Command command, Path configFile, Path checkpoint, List<String> overrides) {
      this(command, configFile, checkpoint, overrides, null, null, Set.of());
    }

    static Invocation parse(String[] args, Path callerDir) throws UsageException {
      if (args.length == 0) {
        throw new UsageException("missing command", Command.GENERAL_USAGE);
      }
      Command command = Command.fromWord(args[0]);
      if (command == null) {
        String kind = args[0].startsWith("-") ? "unknown option " : "unknown command ";
        throw new UsageException(kind + args[0], Command.GENERAL_USAGE);
      }
      String usage = command.usage();
      Path configFile = null;
      Path checkpoint = null;
      Path model = null;
      String ids = null;
      Set<String> roles = null;
      List<String> overrides = new ArrayList<>();

      for (int i = 1; i < args.length; i++) {
        String arg = args[i];
        if (arg.equals("--help") || arg.equals("-h")) {
          return new Invocation(Command.HELP, null, null, List.of());
        }
        boolean inlineValue = arg.startsWith("--") && arg.contains("=");
        String option = inlineValue ? arg.substring(0, arg.indexOf('=')) : arg;
        switch (option) {
          case "--config" -> {
            if (configFile != null) {
              throw new UsageException("--config given twice", usage);
            }
            String text = optionValue(args, i, usage);
            i += inlineValue ? 0 : 1;
            configFile = resolve(callerDir, text, "--config", usage);
          }
          case "--checkpoint" -> {
            if (command != Command.EVAL) {
              throw new UsageException("--checkpoint applies to eval only", usage);
            }
            if (checkpoint != null) {
              throw new UsageException("--checkpoint given twice", usage);
            }
            String text = optionValue(args, i, usage);
            i += inlineValue ? 0 : 1;
            checkpoint = resolve(callerDir, text, "--checkpoint", usage);
          }
          case "--model" -> {
            if (command != Command.LOGPROBS) {
              throw new UsageException("--model applies to logprobs only", usage);
            }
            String text = optionValue(args, i, usage);
            i += inlineValue ? 0 : 1;
            model = resolve(callerDir, text, "--model", usage);
          }
          case "--role" -> {
            if (command != Command.NODE) {
              throw new UsageException("--role applies to node only", usage);
            }
            if (roles != null) {
              throw new UsageException("--role given twice", usage);
            }
            roles = parseRoles(optionValue(args, i, usage), usage);
            i += inlineValue ? 0 : 1;
          }
          case "--ids" -> {
            if (command != Command.LOGPROBS) {
              throw new UsageException("--ids applies to logprobs only", usage);
            }
            ids = optionValue(args, i, usage);
            i += inlineValue ? 0 : 1;
          }
          default -> {
            if (arg.startsWith("-")) {
              throw new UsageException("unknown option " + arg, usage);
            }
            if (arg.indexOf('=') <= 0) {
              throw new UsageException(
                  "unexpected argument \"" + arg + "\" (settings are given as KEY=VALUE)", usage);
            }
            overrides.add(arg);
          }
        }
      }
      if (command == Command.EVAL && checkpoint == null) {
        throw new UsageException("eval needs --checkpoint DIR", usage);
      }
      if (command == Command.LOGPROBS) {
        if (model == null || ids == null) {
          throw new UsageException("logprobs needs --model DIR and --ids ID,ID,...", usage);
        }
        if (!overrides.isEmpty() || configFile != null) {
          throw new UsageException("logprobs takes no settings", usage);
        }
      }
      if (command == Command.NODE && roles == null) {
        throw new UsageException("node needs --role trainer, inference or trainer,inference", usage);
      }
      return new Invocation(command, configFile, checkpoint, List.copyOf(overrides), model, ids,
          roles == null ? Set.of() : roles);
    }

    /** Parses "trainer", "inference" or both, comma-separated, in any order. */
    private static Set<String> parseRoles(String text, String usage) throws UsageException {
      Set<String> roles = new TreeSet<>();
      for (String role : text.split(",", -1)) {
        String trimmed = role.trim();
        if (!trimmed.equals("trainer") && !trimmed.equals("inference")) {
          throw new UsageException(
              "unknown role \"" + trimmed + "\" in --role " + text + " (roles: trainer, inference)", usage);
        }
        roles.add(trimmed);
      }
      return Set.copyOf(roles);
    }

    /** Returns the value of the option at args[i], written "--name=value" or "--name value". */
    private static String optionValue(String[] args, int i, String usage) throws UsageException {
      String arg = args[i];
      int equals = arg.indexOf('=');
      String name = equals >= 0 ? arg.substring(0, equals) : arg;
      String value;
      if (equals >= 0) {
        value = arg.substring(equals + 1);
      } else {
        value = i + 1 < args.length ? args[i + 1] : "";
      }
      if (value.isEmpty() || (equals < 0 && value.startsWith("--"))) {
        throw new UsageException(name + " needs a value", usage);
      }
      return value;
    }

    private static Path resolve(Path callerDir, String text, String option, String usage)
        throws UsageException {
      try {
        return callerDir.resolve(text).normalize();
      } catch (InvalidPathException e) {
        String message = option + " has an invalid path \"" + text + "\": " + e.getReason();
        throw new UsageException(message, usage);
      }
    }
  }
}
