package dev.treepo.model.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One folder of the read-only tiny Qwen2 reference checkpoints: config.json, model.safetensors and
 * reference.json (sequences, float64-computed logits, a greedy continuation). Tests that use it
 * are skipped when the shared data folder is missing.
 */
public record ReferenceCheckpoint(Path dir, int[][] sequences, float[][][] logits,
        int[] greedyPrompt, int[] greedyContinuation, int vocabSizeUsed) {

    /** Folder names of the available reference checkpoints. */
    public static final String[] NAMES = {"tied-f32", "untied-mqa-f32", "tied-bf16"};

    /** Loads a reference folder, or skips the calling test if the shared data is absent. */
    public static ReferenceCheckpoint load(String name) throws IOException {
        String shared = System.getProperty("treepo.shared.dir");
        Assumptions.assumeTrue(shared != null, "treepo.shared.dir is not set");
        Path dir = Path.of(shared, "testdata", "qwen2-tiny", name);
        Assumptions.assumeTrue(Files.isDirectory(dir), "reference data missing: " + dir);

        JsonNode root = new ObjectMapper().readTree(dir.resolve("reference.json").toFile());
        JsonNode sequencesNode = root.get("sequences");
        int[][] sequences = new int[sequencesNode.size()][];
        float[][][] logits = new float[sequencesNode.size()][][];
        for (int i = 0; i < sequences.length; i++) {
            sequences[i] = ints(sequencesNode.get(i));
            JsonNode rows = root.get("logits").get(i);
            logits[i] = new float[rows.size()][];
            for (int t = 0; t < rows.size(); t++) {
                JsonNode row = rows.get(t);
                logits[i][t] = new float[row.size()];
                for (int v = 0; v < row.size(); v++) {
                    logits[i][t][v] = (float) row.get(v).doubleValue();
                }
            }
        }
        JsonNode greedy = root.get("greedy");
        return new ReferenceCheckpoint(dir, sequences, logits, ints(greedy.get("prompt")),
                ints(greedy.get("continuation")), root.get("vocab_size_used").intValue());
    }

    private static int[] ints(JsonNode array) {
        int[] values = new int[array.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = array.get(i).intValue();
        }
        return values;
    }
}
