package dev.treepo.cluster.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** Range checks for the {@link Settings} records; each failure names the key and the range. */
final class RangeChecks {

  private static final Pattern FOLDER_NAME = Pattern.compile("[A-Za-z0-9_+-][A-Za-z0-9._+-]*");

  private RangeChecks() {}

  static int positive(String key, int value) {
    if (value <= 0) {
      throw SettingsException.invalidValue(key, value, "an integer > 0");
    }
    return value;
  }

  static int nonNegative(String key, int value) {
    if (value < 0) {
      throw SettingsException.invalidValue(key, value, "an integer >= 0");
    }
    return value;
  }

  static int atLeast(String key, int value, int min) {
    if (value < min) {
      throw SettingsException.invalidValue(key, value, "an integer >= " + min);
    }
    return value;
  }

  static double positive(String key, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw SettingsException.invalidValue(key, value, "a finite number > 0");
    }
    return value;
  }

  static double nonNegative(String key, double value) {
    if (!(value >= 0) || Double.isInfinite(value)) {
      throw SettingsException.invalidValue(key, value, "a finite number >= 0");
    }
    return value;
  }

  /** Checks {@code low < value <= high}. */
  static double inHalfOpenRange(String key, double value, double low, double high) {
    if (!(value > low && value <= high)) {
      throw SettingsException.invalidValue(
          key, value, "a number > " + low + " and <= " + high);
    }
    return value;
  }

  /** Checks {@code low <= value < high}. */
  static double inRightOpenRange(String key, double value, double low, double high) {
    if (!(value >= low && value < high)) {
      throw SettingsException.invalidValue(
          key, value, "a number >= " + low + " and < " + high);
    }
    return value;
  }

  static double greaterThan(String key, double value, double bound) {
    if (!(value > bound) || Double.isInfinite(value)) {
      throw SettingsException.invalidValue(key, value, "a finite number > " + bound);
    }
    return value;
  }

  static String notBlank(String key, String value) {
    if (value.isBlank()) {
      throw SettingsException.invalidValue(key, value, "a non-empty string");
    }
    return value;
  }

  /** Checks that {@code value} is one folder name, so that it cannot leave its parent folder. */
  static String folderName(String key, String value) {
    if (!FOLDER_NAME.matcher(value).matches()) {
      throw SettingsException.invalidValue(
          key,
          value,
          "a folder name of letters, digits, '.', '_', '+' or '-', not starting with '.'");
    }
    return value;
  }

  /** Checks that a non-empty {@code value} is a valid path on this system; empty is allowed. */
  static String pathOrEmpty(String key, String value) {
    if (value.isEmpty()) {
      return value;
    }
    try {
      Path.of(value);
    } catch (InvalidPathException e) {
      throw SettingsException.invalidValue(key, value, "a valid path (" + e.getReason() + ")");
    }
    return value;
  }
}
