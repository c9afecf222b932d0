package dev.treepo.cluster.transfer;

/**
 * A weight stream that cannot be decoded into the announced policy version: a truncated or
 * overlong stream, an invalid safetensors header, an unexpected version or a checksum mismatch.
 * The message names the version, the tensor where one is involved, and what to do next.
 */
public final class WeightTransferException extends Exception {

    private static final long serialVersionUID = 1L;

    public WeightTransferException(String message) {
        super(message);
    }

    public WeightTransferException(String message, Throwable cause) {
        super(message, cause);
    }
}
