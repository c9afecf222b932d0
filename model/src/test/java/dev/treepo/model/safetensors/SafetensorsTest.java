package dev.treepo.model.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.tensor.HostTensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void f32RoundTripKeepsNamesShapesAndValues() throws IOException {
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
        tensors.put("b.weight", new HostTensor(new long[] {2, 3},
                new float[] {1f, -2.5f, 3e-8f, Float.MAX_VALUE, -0f, 7f}));
        tensors.put("a.bias", new HostTensor(new long[] {3}, new float[] {0.1f, 0.2f, 0.3f}));
        tensors.put("scalar", new HostTensor(new long[0], new float[] {42f}));
        tensors.put("empty", new HostTensor(new long[] {0, 4}, new float[0]));
        Path file = dir.resolve("round.safetensors");
        SafetensorsWriter.write(file, tensors, Map.of("step", "12"));

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(tensors.keySet(), reader.names());
            assertEquals(tensors, reader.readAll());
            assertEquals("pt", reader.metadata().get("format"));
            assertEquals("12", reader.metadata().get("step"));
            assertEquals(SafetensorsDtype.F32, reader.entry("b.weight").dtype());
        }
    }

    @Test
    void writerAlignsHeaderAndSortsNames() throws IOException {
        Map<String, HostTensor> tensors = Map.of(
                "zeta", new HostTensor(new long[] {1}, new float[] {1f}),
                "alpha", new HostTensor(new long[] {1}, new float[] {2f}));
        Path file = dir.resolve("aligned.safetensors");
        SafetensorsWriter.write(file, tensors);

        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, headerLength % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
        assertTrue(header.indexOf("alpha") < header.indexOf("zeta"), header);
        assertEquals(8 + headerLength + 8, bytes.length);
        // alpha comes first in the data as well.
        assertEquals(2f, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
                .getFloat(8 + (int) headerLength));
    }

    @Test
    void f16AndBf16AreWidenedExactly() throws IOException {
        short[] half = {0x3C00, (short) 0xC000, 0x3555, 0x0001, 0x7BFF, (short) 0xFC00, 0x0000};
        float[] halfValues = {1f, -2f, 0.33325195f, 0x1p-24f, 65504f, Float.NEGATIVE_INFINITY, 0f};
        float[] bf16Values = {1f, -2.5f, 3.140625f, 1e-20f, -0f};
        short[] bf16 = new short[bf16Values.length];
        for (int i = 0; i < bf16.length; i++) {
            bf16[i] = (short) (Float.floatToIntBits(bf16Values[i]) >>> 16);
            bf16Values[i] = Float.intBitsToFloat((bf16[i] & 0xFFFF) << 16);
        }
        Path file = dir.resolve("half.safetensors");
        writeRaw(file, List.of(
                new RawTensor("h", "F16", new long[] {7}, shorts(half)),
                new RawTensor("b", "BF16", new long[] {5}, shorts(bf16))));

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertArrayEquals(halfValues, reader.read("h").data());
            assertArrayEquals(bf16Values, reader.read("b").data());
            assertEquals(SafetensorsDtype.BF16, reader.entry("b").dtype());
        }
    }

    @Test
    void halfToFloatHandlesSpecialValues() {
        assertTrue(Float.isNaN(SafetensorsDtype.halfToFloat((short) 0x7E00)));
        assertEquals(Float.POSITIVE_INFINITY, SafetensorsDtype.halfToFloat((short) 0x7C00));
        assertEquals(-0f, SafetensorsDtype.halfToFloat((short) 0x8000));
        assertEquals(0x1p-14f, SafetensorsDtype.halfToFloat((short) 0x0400));
        assertEquals(-0x1p-24f, SafetensorsDtype.halfToFloat((short) 0x8001));
    }

    @Test
    void truncatedFileNamesFileAndTensor() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        SafetensorsWriter.write(file, Map.of("w", new HostTensor(new long[] {4},
                new float[] {1, 2, 3, 4})));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 3));

        IOException error = assertThrows(IOException.class, () -> SafetensorsReader.open(file));
        assertTrue(error.getMessage().contains("Truncated safetensors file"), error.getMessage());
        assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
        assertTrue(error.getMessage().contains("tensor w"), error.getMessage());

        Files.write(file, Arrays.copyOf(bytes, 20));
        IOException header = assertThrows(IOException.class, () -> SafetensorsReader.open(file));
        assertTrue(header.getMessage().contains("Truncated"), header.getMessage());
    }

    @Test
    void badHeaderIsRejected() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        byte[] json = "{not json}".getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate(8 + json.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(json.length).put(json);
        Files.write(file, buffer.array());
        IOException error = assertThrows(IOException.class, () -> SafetensorsReader.open(file));
        assertTrue(error.getMessage().startsWith("Invalid safetensors header in " + file),
                error.getMessage());

        Path huge = dir.resolve("huge.safetensors");
        Files.write(huge, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(Long.MAX_VALUE).array());
        assertThrows(IOException.class, () -> SafetensorsReader.open(huge));
    }

    @Test
    void unknownDtypeNamesTensor() throws IOException {
        Path file = dir.resolve("int.safetensors");
        writeRaw(file, List.of(new RawTensor("ids", "I64", new long[] {1}, new byte[8])));
        IOException error = assertThrows(IOException.class, () -> SafetensorsReader.open(file));
        assertTrue(error.getMessage().contains("Unsupported dtype I64 for tensor ids in " + file),
                error.getMessage());
    }

    @Test
    void shapeNotMatchingBytesNamesTensor() throws IOException {
        Path file = dir.resolve("shape.safetensors");
        writeRaw(file, List.of(new RawTensor("w", "F32", new long[] {3}, new byte[8])));
        IOException error = assertThrows(IOException.class, () -> SafetensorsReader.open(file));
        assertTrue(error.getMessage().contains("Shape mismatch for tensor w in " + file),
                error.getMessage());
    }

    @Test
    void shardedModelIsReadThroughIndex() throws IOException {
        SafetensorsWriter.write(dir.resolve("model-00001-of-00002.safetensors"),
                Map.of("a", new HostTensor(new long[] {1}, new float[] {1f})));
        SafetensorsWriter.write(dir.resolve("model-00002-of-00002.safetensors"),
                Map.of("b", new HostTensor(new long[] {2}, new float[] {2f, 3f})));
        Files.writeString(dir.resolve(SafetensorsReader.INDEX_FILE), """
                {"metadata": {"total_size": 12},
                 "weight_map": {"a": "model-00001-of-00002.safetensors",
                                "b": "model-00002-of-00002.safetensors"}}
                """);
        try (SafetensorsReader reader = SafetensorsReader.openModel(dir)) {
            assertEquals(2, reader.names().size());
            assertArrayEquals(new float[] {2f, 3f}, reader.read("b").data());
        }

        Files.writeString(dir.resolve(SafetensorsReader.INDEX_FILE), """
                {"weight_map": {"a": "model-00002-of-00002.safetensors"}}
                """);
        IOException error = assertThrows(IOException.class, () -> SafetensorsReader.openModel(dir));
        assertTrue(error.getMessage().contains("Tensor a is listed in"), error.getMessage());
    }

    @Test
    void missingModelFileIsReported() {
        assertThrows(NoSuchFileException.class, () -> SafetensorsReader.openModel(dir));
    }

    private record RawTensor(String name, String dtype, long[] shape, byte[] data) {}

    /** Writes a safetensors file by hand, so the reader is tested against bytes it did not write. */
    private static void writeRaw(Path file, List<RawTensor> tensors) throws IOException {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (RawTensor tensor : tensors) {
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(tensor.name()).append("\":{\"dtype\":\"")
                    .append(tensor.dtype()).append("\",\"shape\":")
                    .append(Arrays.toString(tensor.shape()).replace(" ", ""))
                    .append(",\"data_offsets\":[").append(offset).append(',')
                    .append(offset + tensor.data().length).append("]}");
            offset += tensor.data().length;
        }
        header.append('}');
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer = ByteBuffer.allocate((int) (8 + json.length + offset))
                .order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(json.length).put(json);
        for (RawTensor tensor : tensors) {
            buffer.put(tensor.data());
        }
        Files.write(file, buffer.array());
    }

    private static byte[] shorts(short[] values) {
        ByteBuffer buffer = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short value : values) {
            buffer.putShort(value);
        }
        return buffer.array();
    }
}
