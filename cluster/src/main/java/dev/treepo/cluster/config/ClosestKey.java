package dev.treepo.cluster.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/** Finds the known key a mistyped key most likely meant, for "did you mean" hints. */
final class ClosestKey {

  private ClosestKey() {}

  /**
   * Returns the known key closest to {@code key}: the keys that match it up to a missing or an
   * extra leading block ({@code rollout.sampling.top-p} for {@code sampling.top-p}), joined by
   * " or ", else the key with the smallest edit distance when that distance is at most a third of
   * the key's length (at least 2).
   */
  static Optional<String> find(String key, Collection<String> known) {
    List<String> blockMatches = new ArrayList<>();
    for (String candidate : new TreeSet<>(known)) {
      if (candidate.endsWith("." + key) || key.endsWith("." + candidate)) {
        blockMatches.add(candidate);
      }
    }
    if (!blockMatches.isEmpty()) {
      return Optional.of(String.join(" or ", blockMatches));
    }
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String candidate : known) {
      int distance = editDistance(key, candidate);
      if (distance < bestDistance || (distance == bestDistance && candidate.compareTo(best) < 0)) {
        best = candidate;
        bestDistance = distance;
      }
    }
    int limit = Math.max(2, key.length() / 3);
    return best != null && bestDistance <= limit ? Optional.of(best) : Optional.empty();
  }

  /**
   * Returns the optimal string alignment distance: insertions, deletions, substitutions and swaps
   * of two neighboring characters each cost 1, so "widht" is 1 from "width".
   */
  static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        boolean swapped =
            i > 1 && j > 1
                && a.charAt(i - 1) == b.charAt(j - 2)
                && a.charAt(i - 2) == b.charAt(j - 1);
        if (swapped) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }
}
