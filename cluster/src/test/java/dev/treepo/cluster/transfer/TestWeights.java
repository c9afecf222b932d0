package dev.treepo.cluster.transfer;

import dev.treepo.model.tensor.HostTensor;
import dev.treepo.policy.PolicyWeights;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;

/** Small random policies and helpers shared by the transfer tests. */
final class TestWeights {

    private TestWeights() {}

    /**
     * Returns a policy with Qwen2-style names and awkward shapes: a scalar, an empty tensor, odd
     * sizes, and floats that include NaN (one with a payload), infinities, negative zero and
     * subnormals.
     */
    static PolicyWeights randomPolicy(long version, long seed) {
        Random random = new Random(seed);
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
        tensors.put("model.embed_tokens.weight", random(random, 11, 6));
        tensors.put("model.layers.0.self_attn.q_proj.weight", random(random, 6, 6));
        tensors.put("model.layers.0.self_attn.q_proj.bias", random(random, 6));
        tensors.put("model.layers.0.mlp.up_proj.weight", random(random, 13, 6));
        tensors.put("model.layers.0.input_layernorm.weight", random(random, 7));
        tensors.put("model.norm.weight", random(random, 6));
        tensors.put("scale", random(random));
        tensors.put("empty", random(random, 0, 4));
        float[] special = tensors.get("model.norm.weight").data();
        special[0] = Float.NaN;
        special[1] = Float.POSITIVE_INFINITY;
        special[2] = -0.0f;
        special[3] = Float.MIN_VALUE;
        special[4] = Float.intBitsToFloat(0x7fa00001);
        return new PolicyWeights(version, tensors);
    }

    static HostTensor random(Random random, long... shape) {
        HostTensor tensor = HostTensor.zeros(shape);
        float[] data = tensor.data();
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextGaussian();
        }
        return tensor;
    }

    /** Encodes {@code weights} fully into one array. */
    static byte[] encode(PolicyWeights weights, int chunkBytes) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        WeightEncoder encoder = new WeightEncoder(weights, chunkBytes);
        while (encoder.hasNext()) {
            out.writeBytes(encoder.next());
        }
        return out.toByteArray();
    }

    /** Decodes {@code bytes} split into chunks of {@code chunkBytes}. */
    static PolicyWeights decode(WeightDecoder decoder, byte[] bytes, int chunkBytes)
            throws WeightTransferException {
        for (int start = 0; start < bytes.length; start += chunkBytes) {
            int length = Math.min(chunkBytes, bytes.length - start);
            decoder.accept(ByteBuffer.wrap(bytes, start, length));
        }
        return decoder.finish();
    }
}
