package dev.treepo.cluster.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process from {@code /proc/self/status}, which counts the Java heap and
 * native memory such as PyTorch tensors alike. Linux only: elsewhere the figures are -1.
 */
final class ProcessMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ProcessMemory() {}

    /** Returns the current resident set size ({@code VmRSS}) in bytes, or -1 without /proc. */
    static long residentBytes() {
        return field("VmRSS:");
    }

    /** Returns the peak resident set size since the process started ({@code VmHWM}) in bytes, or -1. */
    static long peakResidentBytes() {
        return field("VmHWM:");
    }

    private static long field(String name) {
        if (!Files.isReadable(STATUS)) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(name)) {
                    // The line reads "VmRSS:   123456 kB".
                    String[] parts = line.substring(name.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("failed to read " + STATUS, e);
        }
        return -1;
    }
}
