package dev.treepo.cluster.config;

/**
 * An invalid configuration: an unknown key, a value of the wrong type or out of range, or a config
 * file that cannot be read. The message is complete and meant for the user as it is.
 */
public final class SettingsException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Key of an invalid value without the {@code treepo.} prefix, or null for other errors. */
  private final String key;
  private final String renderedValue;
  private final String expected;

  public SettingsException(String message) {
    this(message, null, null, null, null);
  }

  public SettingsException(String message, Throwable cause) {
    this(message, null, null, null, cause);
  }

  private SettingsException(
      String message, String key, String renderedValue, String expected, Throwable cause) {
    super(message, cause);
    this.key = key;
    this.renderedValue = renderedValue;
    this.expected = expected;
  }

  /**
   * Creates the error for one invalid value, with the message
   * {@code invalid value VALUE for KEY: expected EXPECTED}.
   *
   * @param key the key without the {@code treepo.} prefix, e.g. {@code rollout.width}
   * @param value the value as read; a String is shown in quotes
   * @param expected what the key accepts, e.g. "a positive integer"
   */
  public static SettingsException invalidValue(String key, Object value, String expected) {
    String rendered = value instanceof String text ? "\"" + text + "\"" : String.valueOf(value);
    return invalidRenderedValue(key, rendered, expected);
  }

  /** Same as {@link #invalidValue}, with the value already rendered as the user wrote it. */
  static SettingsException invalidRenderedValue(String key, String renderedValue, String expected) {
    String message = "invalid value " + renderedValue + " for " + key + ": expected " + expected;
    return new SettingsException(message, key, renderedValue, expected, null);
  }

  /** Returns the key of an invalid value, or null when the error is not about one value. */
  public String key() {
    return key;
  }

  /**
   * Returns this error with {@code (from ORIGIN)} after the key, where ORIGIN is the source of the
   * value, e.g. {@code /tmp/x.conf:3}. Errors not about one value are returned unchanged.
   */
  SettingsException locatedAt(String origin) {
    if (key == null || origin == null) {
      return this;
    }
    String message =
        "invalid value " + renderedValue + " for " + key + " (from " + origin + "): expected "
            + expected;
    return new SettingsException(message, key, renderedValue, expected, getCause());
  }
}
