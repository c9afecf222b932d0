package dev.treepo.cluster.config;

import ai.djl.Device;

/**
 * Device of an inference worker, written {@code cpu} or {@code gpu:N} in the configuration.
 *
 * @param gpu true for a CUDA device, false for the CPU
 * @param index CUDA device index, 0 or more; always 0 for the CPU
 */
public record InferenceDevice(boolean gpu, int index) {

  public static final InferenceDevice CPU = new InferenceDevice(false, 0);

  private static final String GPU_PREFIX = "gpu:";

  public InferenceDevice {
    if (index < 0 || (!gpu && index != 0)) {
      throw new IllegalArgumentException(
          "invalid device index " + index + (gpu ? " for a GPU" : " for the CPU")
              + ": expected 0 or more for a GPU, 0 for the CPU");
    }
  }

  /**
   * Parses {@code cpu} or {@code gpu:N}, where N is a CUDA device index.
   *
   * @param key the setting the text came from, named in the error
   * @throws SettingsException when the text is neither form
   */
  public static InferenceDevice parse(String key, String text) {
    if (text.equals("cpu")) {
      return CPU;
    }
    if (text.startsWith(GPU_PREFIX)) {
      String digits = text.substring(GPU_PREFIX.length());
      boolean isIndex =
          !digits.isEmpty() && digits.length() <= 4 && digits.chars().allMatch(Character::isDigit);
      if (isIndex) {
        return new InferenceDevice(true, Integer.parseInt(digits));
      }
    }
    throw SettingsException.invalidValue(key, text, "cpu or gpu:N with a device index N >= 0");
  }

  /** Returns the DJL device to create arrays and models on. */
  public Device toDjlDevice() {
    return gpu ? Device.gpu(index) : Device.cpu();
  }

  /** Returns the configuration spelling, {@code cpu} or {@code gpu:N}. */
  @Override
  public String toString() {
    return gpu ? GPU_PREFIX + index : "cpu";
  }
}
