package dev.treepo.model.testing;

import dev.treepo.model.config.Qwen2Config;
import dev.treepo.model.nn.Qwen2Weights;
import dev.treepo.model.tensor.HostTensor;

import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Random host weights scaled like the reference checkpoints (matrices N(0, 0.15^2), biases
 * N(0, 0.2^2), norms 1 + N(0, 0.1^2)), so that logits differ clearly between positions and
 * tests comparing two code paths can fail. The training init of {@link Qwen2Weights#random} is
 * too small for that.
 */
public final class RandomWeights {

    private RandomWeights() {}

    /** Returns a small grouped-query config: 2 layers, 4 query heads on 2 KV heads, head size 8. */
    public static Qwen2Config smallConfig() {
        return new Qwen2Config(64, 32, 48, 2, 4, 2, 10000.0, 1e-6, 256, false, 1, 2);
    }

    public static SortedMap<String, HostTensor> host(Qwen2Config config, long seed) {
        Random random = new Random(seed);
        SortedMap<String, HostTensor> tensors = new TreeMap<>();
        for (Map.Entry<String, long[]> entry : Qwen2Weights.expectedShapes(config).entrySet()) {
            String name = entry.getKey();
            HostTensor tensor = HostTensor.zeros(entry.getValue());
            float[] data = tensor.data();
            for (int i = 0; i < data.length; i++) {
                double normal = random.nextGaussian();
                if (name.endsWith("norm.weight")) {
                    data[i] = (float) (1 + 0.1 * normal);
                } else if (name.endsWith(".bias")) {
                    data[i] = (float) (0.2 * normal);
                } else {
                    data[i] = (float) (0.15 * normal);
                }
            }
            tensors.put(name, tensor);
        }
        return tensors;
    }
}
