package dev.treepo.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import dev.treepo.model.config.Qwen2Config;

/**
 * Rotary position embeddings in the "rotate half" layout of Hugging Face Qwen2: dimension j of a
 * head pairs with dimension j + E/2, and both rotate by the angle {@code position * theta^(-2j/E)}.
 *
 * <p>Angles are computed in double precision on the Java side and rounded once to float32, which
 * keeps large positions and large {@code rope_theta} as accurate as a float64 reference.
 */
public final class RotaryEmbedding {

    private final int headDim;
    private final double[] inverseFrequencies; // (E/2)

    public RotaryEmbedding(Qwen2Config config) {
        this.headDim = config.headDim();
        this.inverseFrequencies = new double[headDim / 2];
        for (int j = 0; j < headDim / 2; j++) {
            inverseFrequencies[j] = 1.0 / Math.pow(config.ropeTheta(), 2.0 * j / headDim);
        }
    }

    /** Cosine and sine tables for a batch of positions, each of shape {@code shape}. */
    public record Tables(NDArray cos, NDArray sin, NDArray rotateHalf) {

        /**
         * Rotates {@code x} (..., E) whose leading axes broadcast against the tables: {@code x *
         * cos + rotate_half(x) * sin}, with rotate_half as one matrix product.
         */
        public NDArray apply(NDArray x) {
            return x.mul(cos).add(x.matMul(rotateHalf).mul(sin));
        }
    }

    /**
     * Builds the tables for {@code positions} in {@code manager}.
     *
     * @param shape shape of each table, whose element count must be {@code positions.length * E},
     *     for example (B, T, 1, E) to broadcast over the heads of (B, T, H, E)
     */
    public Tables tables(NDManager manager, int[] positions, Shape shape) {
        float[] cos = new float[positions.length * headDim];
        float[] sin = new float[positions.length * headDim];
        int half = headDim / 2;
        for (int n = 0; n < positions.length; n++) {
            for (int j = 0; j < half; j++) {
                double angle = positions[n] * inverseFrequencies[j];
                float c = (float) Math.cos(angle);
                float s = (float) Math.sin(angle);
                int base = n * headDim;
                cos[base + j] = c;
                cos[base + j + half] = c;
                sin[base + j] = s;
                sin[base + j + half] = s;
            }
        }

        // rotate_half(x) = concat(-x[E/2:], x[:E/2]) as x @ R: R[j + E/2][j] = -1 and
        // R[j][j + E/2] = 1 for j < E/2.
        float[] rotate = new float[headDim * headDim];
        for (int j = 0; j < half; j++) {
            rotate[(j + half) * headDim + j] = -1f;
            rotate[j * headDim + j + half] = 1f;
        }
        return new Tables(manager.create(cos, shape), manager.create(sin, shape),
                manager.create(rotate, new Shape(headDim, headDim)));
    }
}
