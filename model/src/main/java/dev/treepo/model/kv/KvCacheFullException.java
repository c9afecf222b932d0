package dev.treepo.model.kv;

/**
 * Thrown when the KV block pool has too few free blocks for a reservation. Nothing was allocated;
 * the caller may release finished sequences and retry, or admit fewer sequences.
 */
public class KvCacheFullException extends IllegalStateException {

    private final int neededBlocks;
    private final int freeBlocks;

    public KvCacheFullException(String message, int neededBlocks, int freeBlocks) {
        super(message);
        this.neededBlocks = neededBlocks;
        this.freeBlocks = freeBlocks;
    }

    /** Fresh blocks the failed reservation needed. */
    public int neededBlocks() {
        return neededBlocks;
    }

    /** Free blocks at the time of the failure. */
    public int freeBlocks() {
        return freeBlocks;
    }
}
