package dev.treepo.model.safetensors;

import java.nio.ByteBuffer;

/** Element types this project reads from safetensors files; all are widened to float32. */
public enum SafetensorsDtype {
    F32(4),
    F16(2),
    BF16(2);

    private final int bytes;

    SafetensorsDtype(int bytes) {
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
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
