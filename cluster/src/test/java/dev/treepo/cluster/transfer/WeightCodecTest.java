package dev.treepo.cluster.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.model.safetensors.SafetensorsReader;
import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WeightCodecTest {

    private static final PolicyWeights WEIGHTS = TestWeights.randomPolicy(5, 1234);
    private static final long CHECKSUM = WeightChecksum.of(WEIGHTS);

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 64, 4096, WeightStreams.DEFAULT_CHUNK_BYTES})
    void roundTripKeepsEveryBit(int chunkBytes) throws WeightTransferException {
        byte[] encoded = TestWeights.encode(WEIGHTS, chunkBytes);

        PolicyWeights decoded =
                TestWeights.decode(new WeightDecoder(5, CHECKSUM), encoded, chunkBytes);

        assertEquals(5, decoded.version());
        assertEquals(WEIGHTS.tensors().keySet(), decoded.tensors().keySet());
        for (Map.Entry<String, HostTensor> entry : WEIGHTS.tensors().entrySet()) {
            HostTensor received = decoded.tensors().get(entry.getKey());
            assertArrayEquals(entry.getValue().shape(), received.shape(), entry.getKey());
            assertArrayEquals(rawBits(entry.getValue().data()), rawBits(received.data()),
                    entry.getKey());
        }
    }

    @Test
    void roundTripWithDifferentSplitThanEncoder() throws WeightTransferException {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);

        PolicyWeights decoded = TestWeights.decode(new WeightDecoder(), encoded, 5);

        assertEquals(WEIGHTS, decoded);
    }

    @Test
    void emptyPolicyRoundTrips() throws WeightTransferException {
        PolicyWeights empty = new PolicyWeights(0, new TreeMap<>());
        byte[] encoded = TestWeights.encode(empty, 7);

        PolicyWeights decoded = TestWeights.decode(
                new WeightDecoder(0, WeightChecksum.of(empty)), encoded, 7);

        assertTrue(decoded.tensors().isEmpty());
    }

    @Test
    void encoderChunksAreFullExceptTheLast() {
        WeightEncoder encoder = new WeightEncoder(WEIGHTS, 100);
        long total = encoder.totalBytes();
        long seen = 0;
        while (encoder.hasNext()) {
            byte[] chunk = encoder.next();
            seen += chunk.length;
            if (encoder.hasNext()) {
                assertEquals(100, chunk.length);
            } else {
                assertTrue(chunk.length > 0, "last chunk is empty");
                assertTrue(chunk.length <= 100, "last chunk has " + chunk.length + " bytes");
            }
        }

        assertEquals(total, seen);
        assertEquals(CHECKSUM, encoder.checksum());
        assertEquals(0, (total - 4L * WEIGHTS.parameterCount()) % 8, "header not 8-byte aligned");
    }

    @Test
    void dumpedStreamIsReadableSafetensors(@TempDir Path folder) throws IOException {
        Path file = folder.resolve("policy-5.safetensors");
        Files.write(file, TestWeights.encode(WEIGHTS, 333));

        try (SafetensorsReader reader = SafetensorsReader.open(file)) {
            assertEquals(WEIGHTS.tensors().keySet(), reader.names());
            assertEquals(WEIGHTS.tensors(), reader.readAll());
            assertEquals("5", reader.metadata().get("policy_version"));
            assertEquals(WeightChecksum.hex(CHECKSUM), reader.metadata().get("checksum"));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 8, 40, -4, -1})
    void truncatedStreamIsRejected(int cut) {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        int length = cut >= 0 ? cut : encoded.length + cut;
        byte[] truncated = Arrays.copyOf(encoded, length);

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> TestWeights.decode(new WeightDecoder(5, CHECKSUM), truncated, 7));

        assertTrue(error.getMessage().startsWith("Truncated weight stream for policy version 5"),
                error.getMessage());
        assertTrue(error.getMessage().contains("after " + length + " "), error.getMessage());
    }

    @Test
    void truncationNamesTheTensor() {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        byte[] truncated = Arrays.copyOf(encoded, encoded.length - 2);

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> TestWeights.decode(new WeightDecoder(5, CHECKSUM), truncated, 4096));

        // The last tensor in name order is "scale", a scalar of 4 bytes.
        assertTrue(error.getMessage().contains("inside tensor scale at byte 2 of 4"),
                error.getMessage());
    }

    @Test
    void corruptedDataByteFailsChecksum() {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        encoded[encoded.length - 10] ^= 0x01;

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> TestWeights.decode(new WeightDecoder(5, CHECKSUM), encoded, 7));

        assertTrue(error.getMessage().startsWith("Checksum mismatch for policy version 5"),
                error.getMessage());
        assertTrue(error.getMessage().contains(WeightChecksum.hex(CHECKSUM)), error.getMessage());
    }

    @Test
    void corruptedHeaderByteIsRejected() {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        encoded[8] = (byte) '[';

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> TestWeights.decode(new WeightDecoder(5, CHECKSUM), encoded, 4096));

        assertTrue(error.getMessage().startsWith("Invalid weight stream header"),
                error.getMessage());
    }

    @Test
    void wrongVersionIsRejectedAtHeader() {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        WeightDecoder decoder = new WeightDecoder(6, CHECKSUM);

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> decoder.accept(ByteBuffer.wrap(encoded, 0, headerEnd(encoded))));

        assertTrue(error.getMessage().contains("expected 6 but the header declares 5"),
                error.getMessage());
        assertThrows(IllegalStateException.class, () -> decoder.accept(ByteBuffer.allocate(1)));
    }

    @Test
    void unexpectedChecksumIsRejectedAtHeader() {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> new WeightDecoder(5, CHECKSUM ^ 1).accept(
                        ByteBuffer.wrap(encoded, 0, headerEnd(encoded))));

        assertTrue(error.getMessage().startsWith("Checksum mismatch for policy version 5"),
                error.getMessage());
    }

    @Test
    void headerChecksumDifferentFromDataIsRejected() throws WeightTransferException {
        // The sender announces and writes a checksum that does not match its tensors.
        PolicyWeights weights = TestWeights.randomPolicy(2, 99);
        long wrong = WeightChecksum.of(weights) ^ 0x10;
        WeightEncoder encoder = new WeightEncoder(weights, 64, wrong);
        WeightDecoder decoder = new WeightDecoder(2, wrong);
        while (encoder.hasNext()) {
            decoder.accept(ByteBuffer.wrap(encoder.next()));
        }

        WeightTransferException error =
                assertThrows(WeightTransferException.class, decoder::finish);

        String expected = "but the header declares " + WeightChecksum.hex(wrong);
        assertTrue(error.getMessage().contains(expected), error.getMessage());
    }

    @Test
    void extraBytesAreRejected() {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        byte[] longer = Arrays.copyOf(encoded, encoded.length + 1);

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> TestWeights.decode(new WeightDecoder(5, CHECKSUM), longer, 4096));

        assertTrue(error.getMessage().contains("longer than its header declares"),
                error.getMessage());
    }

    @Test
    void oversizedHeaderLengthIsRejected() {
        ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(WeightHeader.MAX_HEADER_BYTES + 1).flip();

        WeightTransferException error = assertThrows(WeightTransferException.class,
                () -> new WeightDecoder().accept(length));

        assertTrue(error.getMessage().contains("header length 104857601"), error.getMessage());
    }

    @Test
    void invalidHeadersAreRejected() {
        String metadata = "\"__metadata__\":{\"policy_version\":\"1\",\"checksum\":\"0\"}";
        Map<String, String> cases = Map.of(
                "{" + metadata
                        + ",\"w\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                "Unsupported dtype BF16 for tensor w of policy version 1",
                "{" + metadata + ",\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}",
                "Shape mismatch for tensor w of policy version 1",
                "{" + metadata + ",\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                "tensor w starts at data byte 4 but the first tensor must start at 0",
                "{" + metadata + ",\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                "tensor a starts at data byte 4",
                "{" + metadata
                        + ",\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                "Invalid shape [-1] for tensor w",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                "missing object __metadata__",
                "{\"__metadata__\":{\"policy_version\":\"x\",\"checksum\":\"0\"}}",
                "policy_version \"x\" is not a non-negative integer",
                "{" + metadata + ",\"w\":{}, \"w\":{}}",
                "Duplicate field 'w'",
                "{" + metadata + "} trailing",
                "Invalid weight stream header",
                "{" + metadata + ",\"w\":{\"dtype\":\"F32\",\"shape\":[65536,65536],"
                        + "\"data_offsets\":[0,17179869184]}}",
                "do not fit a Java array");

        for (Map.Entry<String, String> entry : cases.entrySet()) {
            byte[] stream = withHeader(entry.getKey());
            WeightTransferException error = assertThrows(WeightTransferException.class,
                    () -> TestWeights.decode(new WeightDecoder(), stream, 13), entry.getKey());
            assertTrue(error.getMessage().contains(entry.getValue()),
                    entry.getKey() + " gave: " + error.getMessage());
        }
    }

    @Test
    void decoderRejectsUseAfterFinish() throws WeightTransferException {
        byte[] encoded = TestWeights.encode(WEIGHTS, 4096);
        WeightDecoder decoder = new WeightDecoder(5, CHECKSUM);
        TestWeights.decode(decoder, encoded, 4096);

        assertThrows(IllegalStateException.class, decoder::finish);
        assertThrows(IllegalStateException.class, () -> decoder.accept(ByteBuffer.allocate(1)));
    }

    private static int[] rawBits(float[] data) {
        int[] bits = new int[data.length];
        for (int i = 0; i < data.length; i++) {
            bits[i] = Float.floatToRawIntBits(data[i]);
        }
        return bits;
    }

    private static int headerEnd(byte[] encoded) {
        return 8 + (int) ByteBuffer.wrap(encoded).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private static byte[] withHeader(String json) {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + header.length + 64).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).array();
    }
}
