package dev.treepo.cluster.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

class WeightChecksumTest {

    @Test
    void checksumOfFixedWeightsIsStable() {
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
        tensors.put("a.weight", new HostTensor(new long[] {2, 2}, new float[] {1f, -2f, 0.5f, 3f}));
        tensors.put("b.bias", new HostTensor(new long[] {3}, new float[] {0f, -0f, 1e-3f}));

        // Pinned value, computed independently with a bitwise CRC32C in Python over the same bytes.
        long checksum = WeightChecksum.of(new PolicyWeights(4, tensors));

        assertEquals("75d41183", WeightChecksum.hex(checksum));
    }

    @Test
    void checksumIgnoresVersionAndCopies() {
        PolicyWeights weights = TestWeights.randomPolicy(3, 42);
        PolicyWeights sameTensors = TestWeights.randomPolicy(9, 42);

        assertEquals(WeightChecksum.of(weights), WeightChecksum.of(sameTensors));
    }

    @Test
    void incrementalChecksumMatchesPolicyWeights() {
        PolicyWeights weights = TestWeights.randomPolicy(3, 7);
        WeightChecksum incremental = new WeightChecksum();
        for (var entry : weights.tensors().entrySet()) {
            incremental.beginTensor(entry.getKey(), entry.getValue().shape());
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(entry.getValue().numel() * Float.BYTES)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(entry.getValue().data());
            // Odd-sized pieces, as chunks arrive from a stream.
            for (int start = 0; start < bytes.capacity(); start += 7) {
                incremental.updateData(bytes.duplicate().position(start).limit(Math.min(bytes.capacity(), start + 7)));
            }
        }

        assertEquals(weights.checksum(), incremental.value());
        assertEquals(weights.checksum(), WeightChecksum.of(weights));
    }

    @Test
    void flippedFloatBitChangesChecksum() {
        long original = WeightChecksum.of(TestWeights.randomPolicy(1, 42));
        for (int bit = 0; bit < 32; bit++) {
            PolicyWeights flipped = TestWeights.randomPolicy(1, 42);
            float[] data = flipped.tensors().get("model.layers.0.mlp.up_proj.weight").data();
            data[17] = Float.intBitsToFloat(Float.floatToRawIntBits(data[17]) ^ (1 << bit));

            assertNotEquals(original, WeightChecksum.of(flipped), "bit " + bit);
        }
    }

    @Test
    void shapeAndNameChangeChecksum() {
        float[] data = {1f, 2f, 3f, 4f, 5f, 6f};
        long base = checksumOf("w", new long[] {2, 3}, data);

        assertNotEquals(base, checksumOf("w", new long[] {3, 2}, data));
        assertNotEquals(base, checksumOf("w", new long[] {6}, data));
        assertNotEquals(base, checksumOf("v", new long[] {2, 3}, data));
    }

    @Test
    void hexPadsToEightDigits() {
        assertEquals("0000002a", WeightChecksum.hex(42));
        assertEquals("ffffffff", WeightChecksum.hex(0xFFFFFFFFL));
    }

    private static long checksumOf(String name, long[] shape, float[] data) {
        return WeightChecksum.of(new PolicyWeights(0,
                new TreeMap<>(Map.of(name, new HostTensor(shape, data.clone())))));
    }
}
