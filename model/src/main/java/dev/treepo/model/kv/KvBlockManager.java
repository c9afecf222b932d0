package dev.treepo.model.kv;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Allocates KV cache slots in fixed-size blocks and shares them between forked sequences.
 *
 * <p>The pool has {@code totalBlocks} blocks of {@code blockTokens} slots, and slot {@code i} of block
 * {@code b} is the cache row {@code b * blockTokens + i}. Each sequence has a block table: an
 * ordered list of (block, used) entries, and its token at position p lives in the p-th slot of the
 * concatenated used prefixes. An entry may use only a prefix of its block.
 *
 * <p>Blocks are append-only: a slot is written once, at the block's fill (the number of slots
 * written so far by any holder), and never rewritten while the block is held. A fork copies the
 * parent's table up to {@code keepTokens} and increments reference counts, so it copies and
 * recomputes nothing. A sequence appends into its last block only while that block's fill equals
 * its own used count, or when it is the sole holder (it may then drop the unused tail). Otherwise it
 * continues in a fresh block, so each fork leaves at most one partly used block behind.
 *
 * <p>Invariants, checked by {@link #checkInvariants()}:
 * <ul>
 *   <li>the reference count of each block equals the number of block tables that contain it, and
 *       no table contains a block twice;
 *   <li>a block is on the free list exactly when its reference count is 0, and then its fill is 0;
 *   <li>free blocks plus used blocks equal the total;
 *   <li>every table entry uses between 1 and fill slots of its block, and fill is at most
 *       blockTokens;
 *   <li>a sequence's length equals the sum of its entries' used counts.
 * </ul>
 *
 * <p>Pure Java and not thread-safe: one owner (the decode engine) calls it.
 */
public final class KvBlockManager {

    private final int blockTokens;
    private final int totalBlocks;
    private final int[] referenceCounts;
    private final int[] fills;
    private final ArrayDeque<Integer> freeList = new ArrayDeque<>();
    private final Map<Integer, BlockTable> tables = new HashMap<>();
    private int nextSequenceId;

    /** Block table of one sequence: parallel arrays of block ids and used slot counts. */
    private static final class BlockTable {
        int[] blocks = new int[4];
        int[] used = new int[4];
        int entries;
        int length;

        BlockTable copyPrefix(int keepTokens) {
            BlockTable copy = new BlockTable();
            int remaining = keepTokens;
            for (int i = 0; i < entries && remaining > 0; i++) {
                int take = Math.min(used[i], remaining);
                copy.add(blocks[i], take);
                remaining -= take;
            }
            return copy;
        }

        void add(int block, int count) {
            if (entries == blocks.length) {
                blocks = Arrays.copyOf(blocks, entries * 2);
                used = Arrays.copyOf(used, entries * 2);
            }
            blocks[entries] = block;
            used[entries] = count;
            entries++;
            length += count;
        }
    }

    /**
     * @param blockTokens slots per block, at least 1
     * @param totalBlocks blocks in the pool, at least 1
     */
    public KvBlockManager(int blockTokens, int totalBlocks) {
        if (blockTokens < 1 || totalBlocks < 1) {
            throw new IllegalArgumentException("Invalid KV pool size: blockTokens " + blockTokens
                    + " and totalBlocks " + totalBlocks + " must both be at least 1");
        }
        if ((long) blockTokens * totalBlocks > Integer.MAX_VALUE - 1) {
            throw new IllegalArgumentException("Invalid KV pool size: " + blockTokens + " x "
                    + totalBlocks + " slots exceed the int range of slot indices");
        }
        this.blockTokens = blockTokens;
        this.totalBlocks = totalBlocks;
        this.referenceCounts = new int[totalBlocks];
        this.fills = new int[totalBlocks];
        for (int block = 0; block < totalBlocks; block++) {
            freeList.addLast(block);
        }
    }

    public int blockTokens() {
        return blockTokens;
    }

    public int totalBlocks() {
        return totalBlocks;
    }

    /** Slots in the pool, {@code blockTokens * totalBlocks}. */
    public int totalSlots() {
        return blockTokens * totalBlocks;
    }

    /** Starts an empty sequence and returns its id. */
    public int newSequence() {
        int id = nextSequenceId++;
        tables.put(id, new BlockTable());
        return id;
    }

    /**
     * Starts a sequence that shares the first {@code keepTokens} cached slots of {@code seq}.
     *
     * @throws IllegalArgumentException if {@code keepTokens} is negative or exceeds the length of
     *     {@code seq}
     */
    public int forkAt(int seq, int keepTokens) {
        BlockTable parent = table(seq);
        if (keepTokens < 0 || keepTokens > parent.length) {
            throw new IllegalArgumentException("Invalid fork of sequence " + seq + " at "
                    + keepTokens + " tokens: it has " + parent.length + " cached tokens");
        }
        BlockTable child = parent.copyPrefix(keepTokens);
        for (int i = 0; i < child.entries; i++) {
            referenceCounts[child.blocks[i]]++;
        }
        int id = nextSequenceId++;
        tables.put(id, child);
        return id;
    }

    /** Returns whether {@link #reserve} of {@code n} slots for {@code seq} would succeed now. */
    public boolean canReserve(int seq, int n) {
        return blocksNeeded(table(seq), n, null) <= freeList.size();
    }

    /**
     * Reserves slots for {@code n} new tokens of {@code seq} and returns their slot indices in
     * token order, allocating fresh blocks as needed.
     *
     * @throws KvCacheFullException if the pool lacks free blocks, in which case nothing is
     *     allocated
     */
    public int[] reserve(int seq, int n) {
        return reserveAll(new int[] {seq}, new int[] {n})[0];
    }

    /** Returns whether {@link #reserveAll} would succeed now. */
    public boolean canReserveAll(int[] seqs, int[] counts) {
        return blocksNeeded(seqs, counts) <= freeList.size();
    }

    /**
     * Reserves {@code counts[i]} slots for each {@code seqs[i]}, all or nothing. Two forks that
     * could both append into a shared block are served in order: the first one appends, the
     * second one takes a fresh block.
     *
     * @return the new slot indices of each sequence, in token order
     * @throws KvCacheFullException if the pool lacks free blocks for all of them, in which case
     *     nothing is allocated
     * @throws IllegalArgumentException if a sequence is unknown, listed twice, or a count is
     *     negative
     */
    public int[][] reserveAll(int[] seqs, int[] counts) {
        if (seqs.length != counts.length) {
            throw new IllegalArgumentException("Got " + seqs.length + " sequences but "
                    + counts.length + " slot counts");
        }
        int needed = blocksNeeded(seqs, counts);
        if (needed > freeList.size()) {
            int requested = Arrays.stream(counts).sum();
            throw new KvCacheFullException("KV cache full: " + requested + " tokens for "
                    + seqs.length + " sequence(s) need " + needed + " fresh blocks of "
                    + blockTokens + " slots, but only " + freeList.size() + " of " + totalBlocks
                    + " blocks are free. Release finished sequences or enlarge the pool.",
                    needed, freeList.size());
        }

        int[][] slots = new int[seqs.length][];
        for (int i = 0; i < seqs.length; i++) {
            slots[i] = append(table(seqs[i]), counts[i]);
        }
        return slots;
    }

    /** Slot indices of all cached tokens of {@code seq}, in token order. */
    public int[] slots(int seq) {
        BlockTable table = table(seq);
        int[] slots = new int[table.length];
        int position = 0;
        for (int i = 0; i < table.entries; i++) {
            int start = table.blocks[i] * blockTokens;
            for (int j = 0; j < table.used[i]; j++) {
                slots[position++] = start + j;
            }
        }
        return slots;
    }

    /** Number of cached tokens of {@code seq}. */
    public int length(int seq) {
        return table(seq).length;
    }

    /**
     * Shortens {@code seq} to its first {@code length} tokens, releasing blocks it no longer
     * uses. Used to undo a reservation whose forward pass failed.
     */
    public void truncate(int seq, int length) {
        BlockTable table = table(seq);
        if (length < 0 || length > table.length) {
            throw new IllegalArgumentException("Invalid truncation of sequence " + seq + " to "
                    + length + " tokens: it has " + table.length);
        }
        while (table.length > length) {
            int last = table.entries - 1;
            int block = table.blocks[last];
            int drop = Math.min(table.used[last], table.length - length);
            table.used[last] -= drop;
            table.length -= drop;
            if (table.used[last] == 0) {
                table.entries--;
                releaseBlock(block);
            } else if (referenceCounts[block] == 1) {
                // The sole holder may drop the unused tail. A shared tail stays written.
                fills[block] = table.used[last];
            }
        }
    }

    /** Forgets {@code seq} and returns the blocks no other sequence holds to the free list. */
    public void release(int seq) {
        BlockTable table = tables.remove(seq);
        if (table == null) {
            throw unknownSequence(seq);
        }
        for (int i = 0; i < table.entries; i++) {
            releaseBlock(table.blocks[i]);
        }
    }

    /** Returns whether {@code seq} is a live sequence. */
    public boolean contains(int seq) {
        return tables.containsKey(seq);
    }

    /** Number of live sequences. */
    public int sequenceCount() {
        return tables.size();
    }

    public int freeBlocks() {
        return freeList.size();
    }

    public int usedBlocks() {
        return totalBlocks - freeList.size();
    }

    /**
     * Verifies the invariants listed in the class comment.
     *
     * @throws IllegalStateException describing the first violation found
     */
    public void checkInvariants() {
        int[] holders = new int[totalBlocks];
        for (Map.Entry<Integer, BlockTable> entry : tables.entrySet()) {
            BlockTable table = entry.getValue();
            Set<Integer> seen = new HashSet<>();
            int length = 0;
            for (int i = 0; i < table.entries; i++) {
                int block = table.blocks[i];
                if (!seen.add(block)) {
                    throw violation("sequence " + entry.getKey() + " contains block " + block
                            + " twice");
                }
                holders[block]++;
                if (table.used[i] < 1 || table.used[i] > fills[block]) {
                    throw violation("sequence " + entry.getKey() + " uses " + table.used[i]
                            + " slots of block " + block + " whose fill is " + fills[block]);
                }
                length += table.used[i];
            }
            if (length != table.length) {
                throw violation("sequence " + entry.getKey() + " has length " + table.length
                        + " but its entries use " + length + " slots");
            }
        }

        boolean[] free = new boolean[totalBlocks];
        for (int block : freeList) {
            if (free[block]) {
                throw violation("block " + block + " is on the free list twice");
            }
            free[block] = true;
        }
        int used = 0;
        for (int block = 0; block < totalBlocks; block++) {
            if (holders[block] != referenceCounts[block]) {
                throw violation("block " + block + " has reference count "
                        + referenceCounts[block] + " but " + holders[block] + " holders");
            }
            if (free[block] != (referenceCounts[block] == 0)) {
                throw violation("block " + block + " has reference count "
                        + referenceCounts[block] + (free[block] ? " but is" : " but is not")
                        + " on the free list");
            }
            if (fills[block] > blockTokens || (free[block] && fills[block] != 0)) {
                throw violation("block " + block + " has fill " + fills[block]
                        + (free[block] ? " while free" : ""));
            }
            if (!free[block]) {
                used++;
            }
        }
        if (used + freeList.size() != totalBlocks) {
            throw violation(used + " used plus " + freeList.size() + " free blocks differ from "
                    + totalBlocks + " total");
        }
    }

    private int[] append(BlockTable table, int n) {
        int[] slots = new int[n];
        int written = 0;
        if (n > 0 && canAppendInPlace(table)) {
            int last = table.entries - 1;
            int block = table.blocks[last];
            int start = table.used[last];
            int take = Math.min(n, blockTokens - start);
            for (int j = 0; j < take; j++) {
                slots[written++] = block * blockTokens + start + j;
            }
            table.used[last] += take;
            table.length += take;
            fills[block] = start + take;
        }
        while (written < n) {
            int block = freeList.removeFirst();
            referenceCounts[block] = 1;
            int take = Math.min(n - written, blockTokens);
            for (int j = 0; j < take; j++) {
                slots[written++] = block * blockTokens + j;
            }
            fills[block] = take;
            table.add(block, take);
        }
        return slots;
    }

    /**
     * Returns whether the next token of {@code table} can go into its last block: the block has
     * room, and either no sequence has written past this table's used prefix or this table is
     * the block's only holder.
     */
    private boolean canAppendInPlace(BlockTable table) {
        if (table.entries == 0) {
            return false;
        }
        int last = table.entries - 1;
        int block = table.blocks[last];
        int used = table.used[last];
        return used < blockTokens && (fills[block] == used || referenceCounts[block] == 1);
    }

    private int blocksNeeded(int[] seqs, int[] counts) {
        Set<Integer> claimed = new HashSet<>();
        Set<Integer> listed = new HashSet<>();
        long needed = 0;
        for (int i = 0; i < seqs.length; i++) {
            if (!listed.add(seqs[i])) {
                throw new IllegalArgumentException("Sequence " + seqs[i]
                        + " is listed twice in one reservation");
            }
            needed += blocksNeeded(table(seqs[i]), counts[i], claimed);
        }
        return (int) Math.min(needed, Integer.MAX_VALUE);
    }

    /**
     * Counts the fresh blocks {@code n} more tokens of {@code table} need. {@code claimed} holds
     * the shared last blocks that earlier sequences of the same reservation append into.
     */
    private int blocksNeeded(BlockTable table, int n, Set<Integer> claimed) {
        if (n < 0) {
            throw new IllegalArgumentException("Invalid slot count " + n + ": must be >= 0");
        }
        int room = 0;
        if (n > 0 && canAppendInPlace(table)) {
            int last = table.entries - 1;
            int block = table.blocks[last];
            boolean shared = referenceCounts[block] > 1;
            if (!shared || claimed == null || claimed.add(block)) {
                room = blockTokens - table.used[last];
            }
        }
        int rest = Math.max(0, n - room);
        return (rest + blockTokens - 1) / blockTokens;
    }

    private void releaseBlock(int block) {
        referenceCounts[block]--;
        if (referenceCounts[block] == 0) {
            fills[block] = 0;
            // Last in, first out: the next allocation reuses rows that are likely still cached.
            freeList.addFirst(block);
        }
    }

    private BlockTable table(int seq) {
        BlockTable table = tables.get(seq);
        if (table == null) {
            throw unknownSequence(seq);
        }
        return table;
    }

    private static IllegalArgumentException unknownSequence(int seq) {
        return new IllegalArgumentException("Unknown KV sequence " + seq
                + ": it was never created or is already released");
    }

    private static IllegalStateException violation(String detail) {
        return new IllegalStateException("KV block invariant violated: " + detail);
    }
}
