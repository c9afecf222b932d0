package dev.treepo.cluster.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SettingsLoaderTest {

  @TempDir Path tempDir;

  private static LoadedSettings withOverrides(String... overrides) {
    return SettingsLoader.load(null, List.of(overrides));
  }

  private static String errorOf(Path configFile, String... overrides) {
    SettingsException e =
        assertThrows(
            SettingsException.class, () -> SettingsLoader.load(configFile, List.of(overrides)));
    return e.getMessage();
  }

  private Path writeConfig(String text) throws IOException {
    Path file = tempDir.resolve("run.conf");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void defaultsLoad() {
    LoadedSettings loaded = SettingsLoader.defaults();
    Settings settings = loaded.settings();

    assertEquals("tiny-arithmetic", settings.run().name());
    assertEquals(7L, settings.run().seed());
    assertEquals(Settings.Task.Kind.ARITHMETIC, settings.task().name());
    assertEquals(Settings.Rollout.Mode.TREE, settings.rollout().mode());
    assertEquals(8, settings.rollout().width());
    assertEquals(Settings.Rollout.Allocation.EVEN, settings.rollout().allocation());
    assertEquals(Settings.Fallback.Source.CLEAN_FIRST, settings.rollout().fallback().source());
    assertEquals(Settings.Fallback.Cut.RANDOM_BLOCK, settings.rollout().fallback().cut());
    assertEquals(1.0, settings.rollout().sampling().topP());
    assertEquals(Settings.Advantage.Estimator.TREEPO, settings.advantage().estimator());
    assertEquals(5e-5, settings.train().learningRate());
    assertEquals(60, settings.train().steps());
    assertEquals(64, settings.train().promptsPerStep());
    assertEquals(2000, settings.eval().maxProblems());
    assertTrue(settings.train().resetOptimizer());
    assertEquals(InferenceDevice.CPU, settings.inference().device());
    assertEquals(16384, settings.inference().kv().blocks());
    assertEquals(Path.of("runs", "tiny-arithmetic"), settings.runDir());
    assertEquals(8, loaded.config().getInt("rollout.width"));
  }

  @Test
  void defaultsDerivedLimits() {
    Settings.Rollout rollout = SettingsLoader.defaults().settings().rollout();

    assertEquals(8 * 6, rollout.responseTokenLimit());
    assertEquals(8, rollout.fallbackBlockTokens());
  }

  @Test
  void overrideByKeyValue() {
    LoadedSettings loaded =
        withOverrides(
            "rollout.width=4",
            "warmup.learning-rate=1e-4",
            "advantage.filter-uniform-groups=true",
            "run.name=\"quoted-name\"",
            "rollout.allocation=inverse-logprob",
            "rollout.mode=independent");
    Settings settings = loaded.settings();

    assertEquals(4, settings.rollout().width());
    assertEquals(1e-4, settings.warmup().learningRate());
    assertTrue(settings.advantage().filterUniformGroups());
    assertEquals("quoted-name", settings.run().name());
    assertEquals(Settings.Rollout.Allocation.INVERSE_LOGPROB, settings.rollout().allocation());
    assertEquals(Settings.Rollout.Mode.INDEPENDENT, settings.rollout().mode());
    assertEquals(4, loaded.config().getInt("rollout.width"));
  }

  @Test
  void overrideLaterWins() {
    assertEquals(5, withOverrides("rollout.width=3", "rollout.width=5").settings().rollout().width());
  }

  @Test
  void overrideTextTakenVerbatim() {
    Settings settings =
        withOverrides("run.dir=/tmp//out#1", "model.path=", "task.train-file=a b.jsonl").settings();

    assertEquals("/tmp//out#1", settings.run().dir());
    assertEquals(Path.of("/tmp//out#1"), settings.runDir());
    assertEquals("", settings.model().path());
    assertEquals("a b.jsonl", settings.task().trainFile());
  }

  @Test
  void configFileWithPartialBlock() throws IOException {
    Path file = writeConfig("treepo {\n  rollout {\n    width = 3\n  }\n  train.steps = 2\n}\n");

    Settings fromFile = SettingsLoader.load(file, List.of()).settings();
    assertEquals(3, fromFile.rollout().width());
    assertEquals(2, fromFile.train().steps());
    assertEquals(8, fromFile.rollout().segmentTokens());

    Settings overridden = SettingsLoader.load(file, List.of("rollout.width=6")).settings();
    assertEquals(6, overridden.rollout().width());
    assertEquals(2, overridden.train().steps());
  }

  @Test
  void configFileSubstitutionSeesDefaults() throws IOException {
    Path file = writeConfig("treepo.eval.samples = ${treepo.rollout.width}\n");

    assertEquals(8, SettingsLoader.load(file, List.of()).settings().eval().samples());
  }

  @Test
  void unknownKeyInFile() throws IOException {
    Path file = writeConfig("treepo {\n  rollout {\n    widht = 3\n  }\n}\n");

    String message = errorOf(file);

    assertEquals(
        "unknown key rollout.widht (from " + file + ":3); did you mean rollout.width?", message);
  }

  @Test
  void unknownKeysAllListed() throws IOException {
    Path file = writeConfig("treepo.rollout.widht = 3\ntreepo.train.stpes = 1\n");

    List<String> lines = errorOf(file).lines().toList();

    assertEquals(2, lines.size());
    assertTrue(lines.get(0).startsWith("unknown key rollout.widht"), lines.get(0));
    assertTrue(lines.get(1).startsWith("unknown key train.stpes"), lines.get(1));
    assertTrue(lines.get(1).endsWith("did you mean train.steps?"), lines.get(1));
  }

  @Test
  void keyOutsideTreepoBlock() throws IOException {
    Path file = writeConfig("rollout.width = 3\n");

    String message = errorOf(file);

    assertTrue(message.startsWith("unknown key rollout.width (from " + file + ":1)"), message);
    assertTrue(message.contains("inside the treepo { } block"), message);
  }

  @Test
  void unknownOverrideKey() {
    assertEquals(
        "unknown key rollout.widht (from the command line); did you mean rollout.width?",
        errorOf(null, "rollout.widht=3"));
  }

  @Test
  void unknownKeyHints() {
    assertTrue(
        errorOf(null, "sampling.top-p=0.9").endsWith("did you mean rollout.sampling.top-p?"));
    assertTrue(errorOf(null, "treepo.rollout.width=3").endsWith("did you mean rollout.width?"));
    assertFalse(errorOf(null, "zzz=1").contains("did you mean"));
  }

  @Test
  void overrideWithoutValidKey() {
    assertTrue(errorOf(null, "rollout..width=3").startsWith("invalid override rollout..width=3"));
  }

  @Test
  void wrongTypeOverride() {
    assertEquals(
        "invalid value \"abc\" for rollout.width (from the command line): expected an integer",
        errorOf(null, "rollout.width=abc"));
  }

  @Test
  void wrongTypeInFile() throws IOException {
    Path file = writeConfig("treepo {\n  train.learning-rate = fast\n}\n");

    assertEquals(
        "invalid value \"fast\" for train.learning-rate (from " + file + ":2): expected a number",
        errorOf(file));
  }

  @Test
  void fractionalCountRejected() {
    String message = errorOf(null, "rollout.width=1.5");

    assertTrue(message.startsWith("invalid value 1.5 for rollout.width"), message);
    assertTrue(message.endsWith("expected an integer"), message);
  }

  @Test
  void booleanRejectsText() {
    assertTrue(
        errorOf(null, "advantage.filter-uniform-groups=maybe").endsWith("expected true or false"));
  }

  @Test
  void nullRejected() {
    assertTrue(errorOf(null, "rollout.width=null").startsWith("invalid value null for rollout.width"));
  }

  @Test
  void blockReplacedByValue() {
    String message = errorOf(null, "rollout.fallback=3");

    assertEquals(
        "invalid value 3 for rollout.fallback (from the command line): expected a block of keys,"
            + " not a value",
        message);
  }

  @Test
  void everyDefaultKeyIsRead() {
    Config defaults = SettingsLoader.defaultConfig().getConfig(SettingsLoader.ROOT);
    for (Map.Entry<String, ?> entry : defaults.entrySet()) {
      String key = entry.getKey();

      String message = errorOf(null, key + "=[1]");

      assertTrue(message.startsWith("invalid value [1] for " + key + " "), message);
    }
  }

  @Test
  void enumValueNotAllowed() {
    assertEquals(
        "invalid value \"wide\" for rollout.mode (from the command line): expected one of tree,"
            + " independent",
        errorOf(null, "rollout.mode=wide"));
    assertTrue(
        errorOf(null, "rollout.fallback.cut=middle")
            .endsWith("expected one of random-block, min-logprob, from-start"));
    assertTrue(errorOf(null, "task.name=gsm8k").endsWith("expected one of arithmetic, jsonl"));
    assertTrue(errorOf(null, "advantage.estimator=ppo").endsWith("expected one of treepo, grpo"));
    assertTrue(
        errorOf(null, "rollout.allocation=EVEN")
            .endsWith("expected one of even, logprob, inverse-logprob"));
    assertTrue(
        errorOf(null, "rollout.fallback.source=all").endsWith("expected one of clean-first, any"));
  }

  @Test
  void deviceParsed() {
    assertEquals(InferenceDevice.CPU, withOverrides("inference.device=cpu").settings().inference().device());
    assertEquals(
        new InferenceDevice(true, 0),
        withOverrides("inference.device=gpu:0").settings().inference().device());
    assertEquals(
        new InferenceDevice(true, 12),
        withOverrides("inference.device=\"gpu:12\"").settings().inference().device());
    assertEquals("gpu:3", InferenceDevice.parse("k", "gpu:3").toString());
    assertEquals("cpu", InferenceDevice.CPU.toString());
  }

  @Test
  void deviceInvalid() {
    for (String text : List.of("gpu", "gpu:", "gpu:-1", "gpu:x", "cuda:0", "GPU:0", "cpu:0", "")) {
      String message = errorOf(null, "inference.device=" + text);

      assertTrue(message.startsWith("invalid value \"" + text + "\" for inference.device"), message);
      assertTrue(message.endsWith("expected cpu or gpu:N with a device index N >= 0"), message);
    }
  }

  @Test
  void rangesChecked() {
    assertEquals(
        "invalid value 0 for rollout.width (from the command line): expected an integer > 0",
        errorOf(null, "rollout.width=0"));
    assertTrue(errorOf(null, "rollout.sampling.top-p=0").startsWith("invalid value 0.0 for rollout.sampling.top-p"));
    assertTrue(errorOf(null, "rollout.sampling.top-p=1.5").endsWith("expected a number > 0.0 and <= 1.0"));
    assertTrue(errorOf(null, "rollout.sampling.temperature=0").contains("rollout.sampling.temperature"));
    assertTrue(errorOf(null, "train.clip-low=1").contains("train.clip-low"));
    assertTrue(errorOf(null, "train.dual-clip=1").contains("train.dual-clip"));
    assertTrue(errorOf(null, "rollout.repetition.min-count=1").contains("rollout.repetition.min-count"));
    assertTrue(errorOf(null, "warmup.steps=-1").endsWith("expected an integer >= 0"));
    assertTrue(errorOf(null, "run.name=../up").contains("run.name"));
  }

  @Test
  void crossKeyRangesChecked() {
    assertTrue(
        errorOf(null, "rollout.root-divergence=9")
            .endsWith("expected at most rollout.width (8) in tree mode"));
    assertEquals(
        9,
        withOverrides("rollout.root-divergence=9", "rollout.mode=independent")
            .settings().rollout().rootDivergence());
    assertTrue(
        errorOf(null, "train.mini-batches=65")
            .endsWith("expected at most train.prompts-per-step (64)"));
    assertTrue(errorOf(null, "task.name=jsonl").contains("task.train-file"));
  }

  @Test
  void unknownPresetRejected() {
    assertTrue(errorOf(null, "model.preset=huge").contains("model.preset"));
  }

  @Test
  void runDirWhenSet() {
    assertEquals(
        Path.of("/tmp/my-run"), withOverrides("run.dir=/tmp/my-run").settings().runDir());
  }

  @Test
  void missingConfigFile() {
    Path missing = tempDir.resolve("missing.conf");

    assertEquals("config file not found: " + missing + "; check the path", errorOf(missing));
  }

  @Test
  void invalidConfigFileSyntax() throws IOException {
    Path file = writeConfig("treepo {\n  rollout {\n");

    String message = errorOf(file);

    assertTrue(message.startsWith("invalid config file: " + file + ": "), message);
  }
}
