package dev.treepo.model.tensor;

import java.util.Arrays;

/**
 * A float32 tensor on the Java heap, in row-major order: weight snapshots sent between actors,
 * optimizer state and checkpoint contents.
 *
 * <p>Immutable by convention: the record does not copy {@code data}, so neither the creator nor a
 * reader may change the array after construction. Two tensors are equal when their shapes and
 * elements are equal ({@link Float#compare} semantics, so NaN equals NaN).
 *
 * @param shape dimensions, outermost first, where an empty array means a scalar
 * @param data the elements, {@code numel()} of them
 */
public record HostTensor(long[] shape, float[] data) {

    /**
     * @throws IllegalArgumentException if a dimension is negative or the element count of {@code
     *     shape} differs from {@code data.length}
     */
    public HostTensor {
        if (shape == null || data == null) {
            throw new IllegalArgumentException("HostTensor shape and data must not be null");
        }
        long count = 1;
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException(
                        "Invalid tensor shape " + Arrays.toString(shape) + ": negative dimension");
            }
            count *= dimension;
        }
        if (count != data.length) {
            throw new IllegalArgumentException(
                    "Tensor shape " + Arrays.toString(shape) + " needs " + count
                            + " elements but data has " + data.length);
        }
    }

    /** Creates a tensor of zeros. */
    public static HostTensor zeros(long... shape) {
        long count = 1;
        for (long dimension : shape) {
            count *= dimension;
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(
                    "Tensor shape " + Arrays.toString(shape) + " exceeds the Java array limit");
        }
        return new HostTensor(shape.clone(), new float[(int) count]);
    }

    /** Number of elements, the product of the dimensions. */
    public int numel() {
        return data.length;
    }

    /** Returns whether the shape equals {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof HostTensor tensor
                && Arrays.equals(shape, tensor.shape)
                && Arrays.equals(data, tensor.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    /** Shows the shape only, because the data may hold millions of elements. */
    @Override
    public String toString() {
        return "HostTensor" + Arrays.toString(shape);
    }
}
