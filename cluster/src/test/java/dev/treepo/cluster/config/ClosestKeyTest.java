package dev.treepo.cluster.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClosestKeyTest {

  private static final List<String> KNOWN =
      List.of("rollout.width", "rollout.fallback.block-tokens", "inference.kv.block-tokens");

  @Test
  void editDistanceCountsSwapAsOne() {
    assertEquals(1, ClosestKey.editDistance("widht", "width"));
    assertEquals(0, ClosestKey.editDistance("width", "width"));
    assertEquals(3, ClosestKey.editDistance("", "abc"));
    assertEquals(3, ClosestKey.editDistance("kitten", "sitting"));
  }

  @Test
  void typoFindsKey() {
    assertEquals(Optional.of("rollout.width"), ClosestKey.find("rollout.widht", KNOWN));
  }

  @Test
  void missingBlockListsAllMatches() {
    assertEquals(
        Optional.of("inference.kv.block-tokens or rollout.fallback.block-tokens"),
        ClosestKey.find("block-tokens", KNOWN));
  }

  @Test
  void farKeyHasNoHint() {
    assertEquals(Optional.empty(), ClosestKey.find("tokenizer.path", KNOWN));
  }
}
