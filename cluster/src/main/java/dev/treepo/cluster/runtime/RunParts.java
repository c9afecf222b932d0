package dev.treepo.cluster.runtime;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.config.SettingsException;
import dev.treepo.cluster.config.SettingsLoader;
import dev.treepo.model.checkpoint.CheckpointFiles;
import dev.treepo.model.safetensors.SafetensorsDtype;
import dev.treepo.model.sampling.SamplingParams;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.model.train.PolicyLoss;
import dev.treepo.model.train.TrainerSettings;
import dev.treepo.task.ArithmeticTask;
import dev.treepo.task.JsonlProblems;
import dev.treepo.task.Problem;
import dev.treepo.task.PromptFormat;
import dev.treepo.trainer.AdvantageEstimator;
import dev.treepo.trainer.CheckpointWriter;
import dev.treepo.trainer.TrainingSchedule;
import dev.treepo.tree.TreeConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns typed settings into the objects the actors and the trainer take. */
public final class RunParts {

    private static final Logger LOG = LoggerFactory.getLogger(RunParts.class);

    private RunParts() {}

    /**
     * Returns the prompt layout of task.prompt-format: ChatML with task.system-prompt, plain, or for
     * {@code auto} ChatML exactly when the tokenizer has both {@code <|im_start|>} and {@code <|im_end|>}.
     *
     * @throws IllegalArgumentException if ChatML is requested but the tokenizer lacks those tokens
     */
    public static PromptFormat promptFormat(Settings.Task task, Tokenizer tokenizer) {
        boolean hasChatTokens = tokenizer.tokenId(PromptFormat.IM_START).isPresent()
                && tokenizer.tokenId(PromptFormat.IM_END).isPresent();
        return switch (task.promptFormat()) {
            case PLAIN -> new PromptFormat();
            case AUTO -> hasChatTokens ? PromptFormat.chatml(task.systemPrompt()) : new PromptFormat();
            case CHATML -> {
                if (!hasChatTokens) {
                    throw new IllegalArgumentException("task.prompt-format is chatml but the tokenizer has no "
                            + PromptFormat.IM_START + " or no " + PromptFormat.IM_END
                            + " token; set task.prompt-format to plain or auto");
                }
                yield PromptFormat.chatml(task.systemPrompt());
            }
        };
    }

    /**
     * Returns the sorted token ids that end a segment: every {@code eos_token_id} of the model's
     * {@code generation_config.json}, the tokenizer's EOS (which the warm-up appends to every
     * target), and {@code <|im_end|>} when the prompts are ChatML.
     */
    public static int[] stopIds(ModelSource model, PromptFormat format) {
        TreeSet<Integer> ids = new TreeSet<>();
        model.generation().ifPresent(generation -> ids.addAll(generation.eosTokenIds()));
        ids.add(model.tokenizer().eosId());
        if (format.style() == PromptFormat.Style.CHATML) {
            OptionalInt imEnd = model.tokenizer().tokenId(PromptFormat.IM_END);
            imEnd.ifPresent(ids::add);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Returns the checkpoint writer of a run: F32 weights sharded at checkpoint.max-shard-bytes, the
     * model's tokenizer and generation files, a {@code generation_config.json} with the run's stop
     * ids when the model has none, and the run's effective configuration for {@link #evalSettings}.
     */
    public static CheckpointWriter checkpointWriter(Settings settings, ModelSource model, String effectiveConfig) {
        PromptFormat format = promptFormat(settings.task(), model.tokenizer());
        List<Integer> stopIds = new ArrayList<>();
        for (int id : stopIds(model, format)) {
            stopIds.add(id);
        }
        CheckpointFiles.SaveOptions options = new CheckpointFiles.SaveOptions(
                SafetensorsDtype.F32, settings.checkpoint().maxShardBytes());
        return new CheckpointWriter(model.config(), model.tokenizerJson(), options, stopIds, effectiveConfig);
    }

    /**
     * Returns the settings for evaluating {@code checkpoint} so that it reproduces the accuracy its run
     * reported: each key the user set (in --config or as KEY=VALUE) keeps the user's value, each
     * inference key keeps its current value (the device may differ), and every other key takes the
     * value from the run's {@value CheckpointWriter#RUN_CONFIG_FILE} instead of the default. Without
     * that file, or when it no longer loads, {@code settings} is returned unchanged with a warning.
     *
     * @param config the effective configuration rooted at {@code treepo}, with the origin of each value
     */
    public static Settings evalSettings(Settings settings, Config config, Path checkpoint) {
        Path runConfig = checkpoint.resolve(CheckpointWriter.RUN_CONFIG_FILE);
        if (!Files.isRegularFile(runConfig)) {
            LOG.info("Checkpoint {} has no {}; evaluating with the given settings only", checkpoint,
                    CheckpointWriter.RUN_CONFIG_FILE);
            return settings;
        }
        List<String> overrides = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> entry : config.entrySet()) {
            String key = entry.getKey();
            ConfigValue value = entry.getValue();
            String resource = value.origin().resource();
            boolean fromDefaults = SettingsLoader.DEFAULTS_RESOURCE.equals(resource);
            if (!fromDefaults || key.startsWith("inference.")) {
                overrides.add(key + "=" + value.render(ConfigRenderOptions.concise()));
            }
        }
        try {
            Settings merged = SettingsLoader.load(runConfig, overrides).settings();
            LOG.info("Evaluating with the settings of the run in {}, except the {} keys given now and inference.*",
                    runConfig, overrides.stream().filter(k -> !k.startsWith("inference.")).count());
            return merged;
        } catch (SettingsException e) {
            LOG.warn("Cannot apply the run settings of {} ({}); evaluating with the given settings, so the "
                    + "accuracy may differ from the run's", runConfig, e.getMessage());
            return settings;
        }
    }

    public static TreeConfig treeConfig(Settings.Rollout rollout) {
        return new TreeConfig(
                TreeConfig.Mode.valueOf(rollout.mode().name()),
                rollout.width(),
                rollout.segmentTokens(),
                rollout.maxDepth(),
                rollout.mode() == Settings.Rollout.Mode.INDEPENDENT ? rollout.width() : rollout.rootDivergence(),
                rollout.branchFactor(),
                TreeConfig.Allocation.valueOf(rollout.allocation().name()),
                rollout.allocationTemperature(),
                rollout.maxResponseTokens(),
                TreeConfig.FallbackSource.valueOf(rollout.fallback().source().name()),
                TreeConfig.FallbackCut.valueOf(rollout.fallback().cut().name()),
                rollout.fallback().blockTokens(),
                rollout.repetition().windowChars(),
                rollout.repetition().minCount());
    }

    public static SamplingParams sampling(Settings.Rollout rollout) {
        Settings.Sampling sampling = rollout.sampling();
        return new SamplingParams(sampling.temperature(), sampling.topP(), sampling.topK());
    }

    public static TrainerSettings optimizer(Settings.Train train) {
        return new TrainerSettings(train.learningRate(), train.weightDecay(), train.gradClip(),
                new PolicyLoss(train.clipLow(), train.clipHigh(), train.dualClip(), train.klCoef()));
    }

    /** Builds the run schedule; {@code warmupSteps} is 0 when the run starts from a checkpoint. */
    public static TrainingSchedule schedule(Settings settings, int warmupSteps) {
        return new TrainingSchedule(
                warmupSteps,
                settings.warmup().batchSize(),
                settings.warmup().learningRate(),
                settings.train().steps(),
                settings.train().promptsPerStep(),
                settings.train().learningRate(),
                settings.train().miniBatches(),
                AdvantageEstimator.valueOf(settings.advantage().estimator().name()),
                settings.advantage().filterUniformGroups(),
                settings.advantage().maxRolloutsPerStep(),
                settings.eval().samples(),
                settings.train().checkpointEvery(),
                settings.run().seed(),
                settings.runDir(),
                settings.train().resetOptimizer());
    }

    /** Returns the training problems: generated arithmetic, or the task.train-file JSON Lines file. */
    public static List<Problem> trainProblems(Settings.Task task) throws IOException {
        if (task.name() == Settings.Task.Kind.ARITHMETIC) {
            return ArithmeticTask.train(task.seed(), task.trainSize());
        }
        List<Problem> problems = JsonlProblems.load(Settings.userPath(task.trainFile()));
        return problems.subList(0, Math.min(problems.size(), task.trainSize()));
    }

    /** Returns at most {@code limit} held-out problems (eval.max-problems and task.eval-size both cap it). */
    public static List<Problem> evalProblems(Settings.Task task, int limit) throws IOException {
        int count = Math.min(task.evalSize(), limit);
        if (task.name() == Settings.Task.Kind.ARITHMETIC) {
            return ArithmeticTask.eval(task.seed(), count);
        }
        List<Problem> problems = JsonlProblems.load(Settings.userPath(task.evalFile()));
        return problems.subList(0, Math.min(problems.size(), count));
    }
}
