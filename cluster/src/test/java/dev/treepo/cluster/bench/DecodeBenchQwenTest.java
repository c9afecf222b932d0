package dev.treepo.cluster.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full Qwen2.5-0.5B-shaped bench, logged rather than asserted because the figures depend on the
 * machine. It writes about 1 GB to a temporary folder and needs about 5 GB of memory. Run with
 * {@code -Dtreepo.benchmark=true}.
 */
@EnabledIfSystemProperty(named = "treepo.benchmark", matches = "true")
class DecodeBenchQwenTest {

    private static final Logger LOG = LoggerFactory.getLogger(DecodeBenchQwenTest.class);

    @Test
    void qwen25HalfBDecode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code = DecodeBench.main(List.of(), new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        LOG.info("bench decode:\n{}", out.toString(StandardCharsets.UTF_8));
        assertEquals(0, code);
    }
}
