package dev.treepo.trainer;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/** Appends one JSON object per line to a metrics file, flushing after every line. */
public final class MetricsLog {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;

    public MetricsLog(Path file) {
        this.file = file;
    }

    public Path file() {
        return file;
    }

    /**
     * Renames a file left by an earlier run in the same folder to {@code NAME.TIMESTAMP}, so this
     * run's lines do not mix with it and nothing is lost.
     */
    public void moveAsideExisting() {
        if (!Files.exists(file)) {
            return;
        }
        Path aside = file.resolveSibling(file.getFileName() + "." + System.currentTimeMillis());
        try {
            Files.move(file, aside);
            org.slf4j.LoggerFactory.getLogger(MetricsLog.class).info("Moved the earlier {} to {}", file, aside);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to move the earlier " + file + " aside to " + aside, e);
        }
    }

    /** Appends {@code fields} (insertion order kept when the map keeps it) as one line. */
    public void append(Map<String, ?> fields) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            String line = JSON.writeValueAsString(fields) + "\n";
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("failed to append metrics to " + file, e);
        }
    }
}
