package dev.treepo.cluster.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.config.Qwen2Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecodeBenchTest {

    @TempDir
    Path dir;

    @Test
    void smallModelWritesLoadsAndDecodes() throws IOException {
        Qwen2Config config = new Qwen2Config(300, 64, 128, 2, 4, 2, 1e6, 1e-6, 256, true, 0, 0);

        DecodeBench.Result result = DecodeBench.run(config, dir, 4);

        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        assertTrue(Files.readString(dir.resolve("config.json")).contains("\"torch_dtype\" : \"bfloat16\""));
        // BF16 on disk: 2 bytes per parameter plus the header and config.json.
        assertTrue(result.checkpointBytes() > 2 * result.parameters(), result.toString());
        assertTrue(result.checkpointBytes() < 2 * result.parameters() + 20_000, result.toString());
        assertEquals(2, result.tokensPerSecond().length);
        for (double rate : result.tokensPerSecond()) {
            assertTrue(rate > 0, result.toString());
        }
        assertTrue(result.peakRssBytes() >= result.rssAfterLoadBytes(), result.toString());
    }

    @Test
    void qwen25HalfBShape() {
        Qwen2Config config = DecodeBench.qwen25HalfB();
        assertEquals(64, config.headDim());
        assertEquals(7, config.groupSize());
        // About 0.49 billion parameters, with the tied embedding counted once.
        long parameters = dev.treepo.model.nn.Qwen2Weights.expectedShapes(config).values().stream()
                .mapToLong(shape -> {
                    long count = 1;
                    for (long dimension : shape) {
                        count *= dimension;
                    }
                    return count;
                }).sum();
        assertEquals(494_032_768L, parameters);
    }

    @Test
    void invalidArgumentsExitTwo() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8);
        PrintStream out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

        assertEquals(2, DecodeBench.main(List.of("--new-tokens", "0"), out, errStream));
        assertEquals(2, DecodeBench.main(List.of("--dir"), out, errStream));
        assertEquals(2, DecodeBench.main(List.of("--steps", "3"), out, errStream));
        String message = err.toString(StandardCharsets.UTF_8);
        assertTrue(message.contains("--new-tokens 0 is not a positive integer"), message);
        assertTrue(message.contains("--dir needs a value"), message);
        assertTrue(message.contains("unknown argument --steps; usage: treepo bench decode"), message);
    }
}
