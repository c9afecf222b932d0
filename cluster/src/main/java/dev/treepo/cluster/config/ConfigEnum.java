package dev.treepo.cluster.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A setting with a fixed set of string values, such as {@code rollout.mode}. An enum implements
 * it to map its constants to the spelling used in the configuration.
 */
public interface ConfigEnum {

  /** The constant's name; enums implement it already. */
  String name();

  /** Returns the spelling in the configuration: the name in lower case, with '-' for '_'. */
  default String configName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /**
   * Parses {@code text} as one of {@code type}'s constants.
   *
   * @throws SettingsException naming {@code key}, the value and the allowed values when none
   *     matches
   */
  static <E extends Enum<E> & ConfigEnum> E parse(Class<E> type, String key, String text) {
    for (E constant : type.getEnumConstants()) {
      if (constant.configName().equals(text)) {
        return constant;
      }
    }
    throw SettingsException.invalidValue(key, text, "one of " + allowedValues(type));
  }

  /** Returns the configuration spellings of all constants, comma-separated. */
  static <E extends Enum<E> & ConfigEnum> String allowedValues(Class<E> type) {
    return Arrays.stream(type.getEnumConstants())
        .map(ConfigEnum::configName)
        .collect(Collectors.joining(", "));
  }
}
