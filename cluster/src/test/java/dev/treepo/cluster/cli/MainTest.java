package dev.treepo.cluster.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

// Only help and error paths run here: a valid command would start the real train, eval or bench.
class MainTest {

  @TempDir Path tempDir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    PrintStream outStream = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
    return Main.run(args, outStream, errStream, tempDir);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private void assertUsageError(String expectedStart, String... args) {
    assertEquals(2, run(args), String.join(" ", args));

    List<String> lines = stderr().lines().toList();
    assertEquals(1, lines.size(), stderr());
    assertTrue(lines.get(0).startsWith("invalid argument: " + expectedStart), lines.get(0));
    assertTrue(lines.get(0).contains("; usage: treepo "), lines.get(0));
  }

  @Test
  void helpPrintsUsage() {
    assertEquals(0, run("--help"));
    assertTrue(out.toString(StandardCharsets.UTF_8).startsWith("Usage: treepo COMMAND"));
    assertEquals("", stderr());
  }

  @Test
  void helpWordsAndCommandHelp() {
    assertEquals(0, run("help"));
    assertEquals(0, run("-h"));
    assertEquals(0, run("eval", "--help"));
  }

  @Test
  void missingCommand() {
    assertUsageError("missing command");
  }

  @Test
  void unknownCommand() {
    assertUsageError("unknown command fit", "fit");
  }

  @Test
  void unknownOption() {
    assertUsageError("unknown option --steps", "train", "--steps", "3");
    err.reset();
    assertUsageError("unknown option --verbose", "--verbose");
  }

  @Test
  void configWithoutValue() {
    assertUsageError("--config needs a value", "train", "--config");
    err.reset();
    assertUsageError("--config needs a value", "train", "--config=");
  }

  @Test
  void configGivenTwice() {
    assertUsageError("--config given twice", "bench", "--config", "a.conf", "--config=b.conf");
  }

  @Test
  void evalNeedsCheckpoint() {
    assertUsageError("eval needs --checkpoint DIR", "eval", "rollout.width=4");
    assertTrue(stderr().contains("usage: treepo eval --checkpoint DIR"), stderr());
  }

  @Test
  void checkpointOnlyForEval() {
    assertUsageError("--checkpoint applies to eval only", "train", "--checkpoint", "x");
  }

  @Test
  void argumentWithoutEquals() {
    assertUsageError("unexpected argument \"rollout.width\"", "train", "rollout.width", "8");
    err.reset();
    assertUsageError("unexpected argument \"=8\"", "train", "=8");
  }

  @Test
  void unknownKeyExitsTwo() {
    assertEquals(2, run("train", "rollout.widht=3"));
    assertEquals(
        "unknown key rollout.widht (from the command line); did you mean rollout.width?",
        stderr().strip());
  }

  @Test
  void wrongTypeExitsTwo() {
    assertEquals(2, run("bench", "rollout.width=abc"));
    assertTrue(stderr().startsWith("invalid value \"abc\" for rollout.width"), stderr());
  }

  @Test
  void missingConfigFileNamesPath() {
    assertEquals(2, run("train", "--config", "nope.conf"));
    assertEquals(
        "config file not found: " + tempDir.resolve("nope.conf") + "; check the path",
        stderr().strip());
  }

  @Test
  void relativeConfigResolvesAgainstCallerDir() throws IOException {
    Path file = tempDir.resolve("my.conf");
    Files.writeString(file, "treepo.rollout.widht = 3\n");

    assertEquals(2, run("train", "--config=my.conf"));
    assertTrue(stderr().startsWith("unknown key rollout.widht (from " + file + ":1)"), stderr());
  }

  @Test
  void missingCheckpointNamesPath() {
    assertEquals(2, run("eval", "--checkpoint", "runs/none"));
    assertEquals(
        "checkpoint folder not found: " + tempDir.resolve("runs/none")
            + "; pass a folder that train wrote",
        stderr().strip());
  }

  @Test
  void checkpointMustBeFolder() throws IOException {
    Path file = Files.writeString(tempDir.resolve("weights.bin"), "x");

    assertEquals(2, run("eval", "--checkpoint=" + file));
    assertTrue(stderr().startsWith("checkpoint is not a folder: " + file), stderr());
  }
}
