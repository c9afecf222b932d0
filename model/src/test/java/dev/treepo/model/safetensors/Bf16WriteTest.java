package dev.treepo.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.tensor.HostTensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

class Bf16WriteTest {

    @TempDir
    Path dir;

    @Test
    void roundsToNearestEven() {
        assertEquals((short) 0x3F80, SafetensorsDtype.floatToBf16(1.0f));
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa, 1.
        assertEquals((short) 0x3F80, SafetensorsDtype.floatToBf16(1.0f + 0x1p-8f));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6.
        assertEquals((short) 0x3F82, SafetensorsDtype.floatToBf16(1.0f + 3 * 0x1p-8f));
        assertEquals((short) 0x3F81, SafetensorsDtype.floatToBf16(1.0f + 0x1p-8f + 0x1p-20f));
        assertEquals((short) 0xBF80, SafetensorsDtype.floatToBf16(-1.0f));
        assertEquals((short) 0x7F80, SafetensorsDtype.floatToBf16(Float.POSITIVE_INFINITY));
        assertTrue(Float.isNaN(Float.intBitsToFloat(SafetensorsDtype.floatToBf16(Float.NaN) << 16)));
    }

    @Test
    void bf16FileReadsBackRounded() throws IOException {
        Path file = dir.resolve("w.safetensors");
        float[] values = {1.0f, -2.5f, 0.1f, 3.0e38f, 0f};
        SafetensorsWriter.write(file, Map.of("w", new HostTensor(new long[] {5}, values)), Map.of(),
                SafetensorsDtype.BF16);

        // 8-byte length, the padded header, then 5 elements of 2 bytes.
        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            SafetensorsReader.TensorEntry entry = reader.entry("w");
            assertEquals(SafetensorsDtype.BF16, entry.dtype());
            assertEquals(10, entry.end() - entry.begin());
            assertEquals(Files.size(file), entry.end());
            float[] expected = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                expected[i] = Float.intBitsToFloat(SafetensorsDtype.floatToBf16(values[i]) << 16);
            }
            assertArrayEquals(expected, reader.read("w").data());
        }
    }

    @Test
    void f16WriteIsRejected() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> SafetensorsWriter.write(dir.resolve("w.safetensors"),
                        Map.of("w", new HostTensor(new long[] {1}, new float[] {1f})), Map.of(),
                        SafetensorsDtype.F16));
        assertTrue(error.getMessage().contains("only F32 and BF16"), error.getMessage());
    }
}
