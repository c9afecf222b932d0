package dev.treepo.cluster.bench;

import dev.treepo.cluster.config.Settings;
import dev.treepo.cluster.runtime.ModelSource;
import dev.treepo.cluster.runtime.RunParts;
import dev.treepo.model.tokenizer.Tokenizer;
import dev.treepo.rollout.RolloutManager.PromptJob;
import dev.treepo.task.Problem;
import dev.treepo.task.PromptFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * Model and prompts of a rollout benchmark: {@code model.path}, or the tiny preset with random
 * weights, and the first {@code train.prompts-per-step} held-out problems as prompts.
 */
record BenchInputs(ModelSource model, List<PromptJob> jobs) {

    static BenchInputs load(Settings settings) throws IOException {
        ModelSource model = settings.model().path().isEmpty()
                ? ModelSource.tiny(settings.run().seed(), Files.createTempDirectory("treepo-bench"))
                : ModelSource.load(Settings.userPath(settings.model().path()));
        Tokenizer tokenizer = model.tokenizer();
        List<Problem> problems = RunParts.evalProblems(settings.task(), settings.train().promptsPerStep());
        PromptFormat format = RunParts.promptFormat(settings.task(), tokenizer);
        List<PromptJob> jobs = new ArrayList<>();
        for (int i = 0; i < problems.size(); i++) {
            jobs.add(new PromptJob(i, tokenizer.encode(format.prompt(problems.get(i)))));
        }
        return new BenchInputs(model, List.copyOf(jobs));
    }
}
