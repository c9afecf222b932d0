package dev.treepo.model.safetensors;

import java.nio.ByteBuffer;

/**
 * Element types this project reads from safetensors files; all are widened to float32. F32 and
 * BF16 can also be written.
 */
public enum SafetensorsDtype {
    F32(4, "float32"),
    F16(2, "float16"),
    BF16(2, "bfloat16");

    private final int bytes;
    private final String torchName;

    SafetensorsDtype(int bytes, String torchName) {
        this.bytes = bytes;
        this.torchName = torchName;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** PyTorch name of the type, as {@code torch_dtype} in {@code config.json} spells it. */
    public String torchName() {
        return torchName;
    }

    /** Returns the type named {@code name} in a safetensors header, or null if unsupported. */
    static SafetensorsDtype fromHeaderName(String name) {
        for (SafetensorsDtype dtype : values()) {
            if (dtype.name().equals(name)) {
                return dtype;
            }
        }
        return null;
    }

    /**
     * Reads {@code target.length} elements from the little-endian {@code source}, widening them to
     * float32. BF16 is the upper half of a float32, so widening is exact and never goes through a
     * BF16 NDArray (which crashes DJL 0.36's PyTorch engine).
     */
    void decode(ByteBuffer source, float[] target) {
        switch (this) {
            case F32 -> source.asFloatBuffer().get(target);
            case F16 -> {
                for (int i = 0; i < target.length; i++) {
                    target[i] = halfToFloat(source.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < target.length; i++) {
                    target[i] = Float.intBitsToFloat((source.getShort(i * 2) & 0xFFFF) << 16);
                }
            }
        }
    }

    /**
     * Writes {@code count} elements of {@code source} from {@code offset} into the little-endian
     * {@code target}, narrowing float32 to BF16 with round-to-nearest-even (NaN stays NaN).
     *
     * @throws UnsupportedOperationException for F16, which this project never writes
     */
    void encode(float[] source, int offset, int count, ByteBuffer target) {
        switch (this) {
            case F32 -> target.asFloatBuffer().put(source, offset, count);
            case BF16 -> {
                for (int i = 0; i < count; i++) {
                    target.putShort(i * 2, floatToBf16(source[offset + i]));
                }
            }
            case F16 -> throw new UnsupportedOperationException(
                    "Writing F16 safetensors is not supported; write F32 or BF16");
        }
    }

    /** Rounds float32 to the nearest BF16, ties to even; NaN becomes a quiet NaN. */
    static short floatToBf16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    /** Converts IEEE 754 binary16 bits to float32, keeping subnormals, infinities and NaN. */
    static float halfToFloat(short half) {
        int bits = half & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1F;
        int mantissa = bits & 0x3FF;
        if (exponent == 0x1F) {
            // Infinity or NaN: all-ones float32 exponent, mantissa kept.
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float32.
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
