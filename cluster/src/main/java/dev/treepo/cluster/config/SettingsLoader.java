package dev.treepo.cluster.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the effective configuration of a run from three layers, later ones winning: the
 * classpath resource {@code treepo.conf} (a copy of conf/treepo.conf), an optional config file,
 * and {@code KEY=VALUE} overrides. Every key that the file or an override sets must exist in the
 * defaults, so a mistyped key is an error rather than a silently ignored setting.
 */
public final class SettingsLoader {

  /** Block that holds every TreePO key, in the defaults and in config files. */
  public static final String ROOT = "treepo";

  /** Classpath resource with the default configuration. */
  public static final String DEFAULTS_RESOURCE = "treepo.conf";

  private static final Logger log = LoggerFactory.getLogger(SettingsLoader.class);

  private static final String COMMAND_LINE = "the command line";

  private SettingsLoader() {}

  /** Returns the defaults alone, as {@code treepo train} without arguments would run. */
  public static LoadedSettings defaults() {
    return load(null, List.of());
  }

  /**
   * Loads the defaults, then {@code configFile}, then {@code overrides}, and checks the result.
   *
   * @param configFile a HOCON file that sets some keys inside a {@code treepo { }} block, as
   *     conf/treepo.conf does, or null for none
   * @param overrides arguments of the form {@code KEY=VALUE}, KEY without the {@code treepo.}
   *     prefix; a later override of the same key wins
   * @throws SettingsException naming the key, value and origin of the first problem found, or
   *     listing every unknown key, one per line
   */
  public static LoadedSettings load(Path configFile, List<String> overrides) {
    Config defaults = defaultConfig();

    Config user = configFile == null ? ConfigFactory.empty() : parseConfigFile(configFile);
    for (String override : overrides) {
      user = parseOverride(override).withFallback(user);
    }

    Config resolvedUser;
    try {
      resolvedUser = user.resolveWith(user.withFallback(defaults));
    } catch (ConfigException e) {
      throw new SettingsException("invalid configuration: " + e.getMessage(), e);
    }
    checkKeys(resolvedUser, defaults);

    Config effective = resolvedUser.withFallback(defaults).getConfig(ROOT);
    Settings settings = SettingsReader.read(effective);
    if (log.isDebugEnabled()) {
      String rendered = effective.root().render(ConfigRenderOptions.concise());
      log.debug("effective configuration: {}", rendered);
    }
    return new LoadedSettings(settings, effective);
  }

  /**
   * Parses one {@code KEY=VALUE} argument into a configuration rooted at {@code treepo}.
   *
   * <p>VALUE is read as a HOCON value when it is a number, a boolean, null, a list, an object or a
   * quoted string, so {@code 8}, {@code 1e-3}, {@code true} and {@code "text"} work. Any other text
   * is taken verbatim as a string, because HOCON would reject {@code gpu:0} and cut
   * {@code a//b} and {@code a#b} at the comment mark. An empty VALUE is the empty string.
   *
   * @throws SettingsException when the argument has no '=' or KEY is not a valid key path
   */
  static Config parseOverride(String argument) {
    int equals = argument.indexOf('=');
    if (equals < 0) {
      throw new SettingsException(
          "invalid override " + argument + ": expected KEY=VALUE, e.g. rollout.width=8");
    }
    String key = argument.substring(0, equals).trim();
    String text = argument.substring(equals + 1);
    List<String> path;
    try {
      path = ConfigUtil.splitPath(key);
    } catch (ConfigException e) {
      throw new SettingsException(
          "invalid override " + argument + ": \"" + key
              + "\" is not a key path such as rollout.width");
    }
    List<String> rooted = new ArrayList<>();
    rooted.add(ROOT);
    rooted.addAll(path);
    ConfigValue value =
        parseOverrideValue(text).withOrigin(ConfigOriginFactory.newSimple(COMMAND_LINE));
    return ConfigFactory.empty().withValue(ConfigUtil.joinPath(rooted), value);
  }

  private static ConfigValue parseOverrideValue(String text) {
    ConfigValue verbatim = ConfigValueFactory.fromAnyRef(text);
    Config parsed;
    try {
      parsed = ConfigFactory.parseString("value = " + text);
    } catch (ConfigException e) {
      return verbatim;
    }
    // Text such as "8, width = 3" parses to more than one key, and "${HOME}" to a substitution.
    if (!parsed.isResolved() || parsed.root().size() != 1 || !parsed.root().containsKey("value")) {
      return verbatim;
    }
    ConfigValue value = parsed.root().get("value");
    boolean quoted = text.strip().startsWith("\"");
    return value.valueType() == ConfigValueType.STRING && !quoted ? verbatim : value;
  }

  /** Returns the classpath defaults, resolved, rooted above {@code treepo}. */
  static Config defaultConfig() {
    Config defaults;
    try {
      defaults =
          ConfigFactory.parseResources(
                  SettingsLoader.class.getClassLoader(),
                  DEFAULTS_RESOURCE,
                  ConfigParseOptions.defaults().setAllowMissing(false))
              .resolve();
    } catch (ConfigException e) {
      throw new IllegalStateException(
          "cannot read the classpath resource " + DEFAULTS_RESOURCE
              + " (built from conf/treepo.conf); rebuild with ./mvnw package: " + e.getMessage(),
          e);
    }
    if (!defaults.hasPath(ROOT)) {
      throw new IllegalStateException(
          "classpath resource " + DEFAULTS_RESOURCE + " has no " + ROOT + " block");
    }
    return defaults;
  }

  private static Config parseConfigFile(Path file) {
    if (!Files.exists(file)) {
      throw new SettingsException("config file not found: " + file + "; check the path");
    }
    if (!Files.isRegularFile(file)) {
      throw new SettingsException("config file is not a regular file: " + file);
    }
    try {
      return ConfigFactory.parseFile(
          file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    } catch (ConfigException e) {
      throw new SettingsException("invalid config file: " + e.getMessage(), e);
    }
  }

  /**
   * Checks that every value in {@code user} sets a key of {@code defaults}, and that no value
   * replaces a whole block.
   */
  private static void checkKeys(Config user, Config defaults) {
    Map<String, ConfigValue> knownLeaves = new TreeMap<>();
    Set<String> knownBlocks = new TreeSet<>();
    collect(defaults.getConfig(ROOT).root(), List.of(), knownLeaves, knownBlocks);

    Map<String, ConfigValue> userLeaves = new TreeMap<>();
    collect(user.root(), List.of(), userLeaves, new TreeSet<>());

    List<String> errors = new ArrayList<>();
    for (Map.Entry<String, ConfigValue> entry : userLeaves.entrySet()) {
      List<String> path = ConfigUtil.splitPath(entry.getKey());
      ConfigValue value = entry.getValue();
      String origin = SettingsReader.describe(value.origin());
      if (!path.get(0).equals(ROOT)) {
        errors.add(
            "unknown key " + entry.getKey() + " (from " + origin + "); keys in a config file go"
                + " inside the " + ROOT + " { } block, as in conf/treepo.conf");
        continue;
      }
      String key = path.size() == 1 ? ROOT : ConfigUtil.joinPath(path.subList(1, path.size()));
      if (knownLeaves.containsKey(key)) {
        continue;
      }
      if (path.size() == 1 || knownBlocks.contains(key)) {
        String rendered = value.render(ConfigRenderOptions.concise());
        throw SettingsException.invalidRenderedValue(key, rendered, "a block of keys, not a value")
            .locatedAt(origin);
      }
      String message = "unknown key " + key + " (from " + origin + ")";
      String hint =
          ClosestKey.find(key, knownLeaves.keySet())
              .map(closest -> "; did you mean " + closest + "?")
              .orElse("");
      errors.add(message + hint);
    }
    if (!errors.isEmpty()) {
      throw new SettingsException(String.join("\n", errors));
    }
  }

  /** Collects the leaf values of {@code object} by path, and the paths of its nested objects. */
  private static void collect(
      ConfigObject object,
      List<String> prefix,
      Map<String, ConfigValue> leaves,
      Set<String> blocks) {
    for (Map.Entry<String, ConfigValue> entry : object.entrySet()) {
      List<String> path = new ArrayList<>(prefix);
      path.add(entry.getKey());
      if (entry.getValue() instanceof ConfigObject child) {
        blocks.add(ConfigUtil.joinPath(path));
        collect(child, path, leaves, blocks);
      } else {
        leaves.put(ConfigUtil.joinPath(path), entry.getValue());
      }
    }
  }
}
