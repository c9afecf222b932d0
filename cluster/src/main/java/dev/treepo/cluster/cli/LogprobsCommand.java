package dev.treepo.cluster.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Model;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tokenizer.HfTokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * {@code treepo logprobs --model DIR --ids 1,35,110}: a quick check of a new checkpoint. One
 * teacher-forced forward pass over the ids prints, as one JSON object, the log-prob of every id
 * given the ids before it ({@code null} for the first) and the argmax id after every prefix. The
 * log-probs are over all embedding rows, as the model defines them; the argmax skips padded rows
 * beyond the tokenizer's vocabulary when the folder has a {@code tokenizer.json}.
 */
final class LogprobsCommand {

    private LogprobsCommand() {}

    /** Parses a comma-separated list of non-negative token ids. */
    static int[] parseIds(String text) {
        String[] parts = text.split(",");
        int[] ids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ids[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--ids has an invalid id \"" + parts[i].trim()
                        + "\" at position " + (i + 1) + "; give comma-separated integers such as 1,35,110");
            }
            if (ids[i] < 0) {
                throw new IllegalArgumentException("--ids has a negative id " + ids[i] + " at position " + (i + 1));
            }
        }
        return ids;
    }

    static int run(Path modelDir, int[] ids, PrintStream out) throws IOException {
        if (!Files.isDirectory(modelDir)) {
            throw new NoSuchFileException(modelDir.toString(), null, "model folder not found");
        }
        Qwen2Config config = Qwen2Config.read(modelDir.resolve("config.json"));
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] >= config.vocabSize()) {
                throw new IllegalArgumentException("id " + ids[i] + " at position " + (i + 1) + " is outside the vocabulary of "
                        + config.vocabSize() + " rows in " + modelDir.resolve("config.json"));
            }
        }
        if (ids.length > config.maxPositionEmbeddings()) {
            throw new IllegalArgumentException(ids.length + " ids exceed max_position_embeddings "
                    + config.maxPositionEmbeddings() + " of " + modelDir.resolve("config.json"));
        }

        float[] logits;
        int vocab = config.vocabSize();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Qwen2Weights weights = Qwen2Weights.load(modelDir, manager)) {
            long[] input = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                input[i] = ids[i];
            }
            NDArray output = new Qwen2Model(weights.config(), weights)
                    .forward(manager.create(input, new Shape(1, ids.length)));
            logits = output.toFloatArray();
        }

        int validVocab = vocab;
        Path tokenizerJson = modelDir.resolve("tokenizer.json");
        if (Files.isRegularFile(tokenizerJson)) {
            try (HfTokenizer tokenizer = new HfTokenizer(tokenizerJson)) {
                validVocab = Math.min(vocab, tokenizer.vocabSize());
            }
        }

        ObjectMapper json = new ObjectMapper();
        ObjectNode result = json.createObjectNode();
        result.put("model", modelDir.toString());
        result.put("argmax_vocab", validVocab);
        ArrayNode idList = result.putArray("ids");
        ArrayNode logprobs = result.putArray("logprobs");
        ArrayNode argmax = result.putArray("argmax");
        logprobs.addNull();
        for (int t = 0; t < ids.length; t++) {
            idList.add(ids[t]);
            int offset = t * vocab;
            int best = 0;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                max = Math.max(max, logits[offset + v]);
            }
            for (int v = 1; v < validVocab; v++) {
                if (logits[offset + v] > logits[offset + best]) {
                    best = v;
                }
            }
            argmax.add(best);
            if (t + 1 < ids.length) {
                // log softmax of the next id, with the max subtracted for stability
                double sum = 0;
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(logits[offset + v] - max);
                }
                logprobs.add(logits[offset + ids[t + 1]] - max - Math.log(sum));
            }
        }
        out.println(json.writeValueAsString(result));
        return 0;
    }
}
