package dev.treepo.cluster.config;

import com.typesafe.config.Config;
import java.util.Objects;

/**
 * The effective configuration of a run, as typed settings and as the merged {@link Config}.
 *
 * @param settings the typed, range-checked settings
 * @param config the merged configuration rooted at {@code treepo}, so keys have no prefix
 *     ({@code config.getInt("rollout.width")})
 */
public record LoadedSettings(Settings settings, Config config) {
  public LoadedSettings {
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(config, "config");
  }
}
