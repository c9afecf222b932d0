package dev.treepo.model.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

class KvBlockManagerTest {

    @Test
    void reserveFillsBlocksInOrder() {
        KvBlockManager blocks = new KvBlockManager(4, 8);
        int seq = blocks.newSequence();
        assertArrayEquals(new int[] {0, 1, 2}, blocks.reserve(seq, 3));
        blocks.checkInvariants();
        assertArrayEquals(new int[] {3, 4, 5, 6}, blocks.reserve(seq, 4));
        blocks.checkInvariants();
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6}, blocks.slots(seq));
        assertEquals(7, blocks.length(seq));
        assertEquals(2, blocks.usedBlocks());
        assertEquals(6, blocks.freeBlocks());
        assertArrayEquals(new int[0], blocks.reserve(seq, 0));
    }

    @ParameterizedTest(name = "keep {0} of 10 with block size 4")
    @CsvSource({
        // Columns: keep, blocks shared by the child, fresh blocks after the child appends 2.
        // At 10 the child is the first to append into the parent's partly used last block.
        "0, 0, 1",
        "3, 1, 1",
        "4, 1, 1",
        "6, 2, 1",
        "8, 2, 1",
        "10, 3, 0",
    })
    void forkSharesPrefixWithoutCopy(int keep, int sharedBlocks, int freshBlocks) {
        KvBlockManager blocks = new KvBlockManager(4, 16);
        int parent = blocks.newSequence();
        blocks.reserve(parent, 10);
        int usedBefore = blocks.usedBlocks();

        int child = blocks.forkAt(parent, keep);
        blocks.checkInvariants();
        assertEquals(keep, blocks.length(child));
        assertArrayEquals(Arrays.copyOf(blocks.slots(parent), keep), blocks.slots(child));
        assertEquals(usedBefore, blocks.usedBlocks(), "a fork allocates nothing");
        assertEquals(sharedBlocks, distinctBlocks(blocks.slots(child), 4).size());

        int[] appended = blocks.reserve(child, 2);
        blocks.checkInvariants();
        assertEquals(usedBefore + freshBlocks, blocks.usedBlocks());
        Set<Integer> parentSlots = toSet(blocks.slots(parent));
        for (int slot : appended) {
            assertFalse(parentSlots.contains(slot), "child slot " + slot + " overwrites parent");
        }
    }

    @Test
    void sharedTailGoesToFirstAppender() {
        KvBlockManager blocks = new KvBlockManager(4, 16);
        int parent = blocks.newSequence();
        blocks.reserve(parent, 6); // blocks 0 (full) and 1 (2 of 4 used)
        int child = blocks.forkAt(parent, 6);

        // The child appends first: it continues in block 1, the parent must move on.
        assertArrayEquals(new int[] {6, 7}, blocks.reserve(child, 2));
        assertArrayEquals(new int[] {8}, blocks.reserve(parent, 1));
        blocks.checkInvariants();
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 8}, blocks.slots(parent));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, blocks.slots(child));
    }

    @Test
    void reserveAllServesSharersInOrder() {
        KvBlockManager blocks = new KvBlockManager(4, 3);
        int parent = blocks.newSequence();
        blocks.reserve(parent, 6); // 1 block left
        int first = blocks.forkAt(parent, 6);
        int second = blocks.forkAt(parent, 6);

        // Only one sharer may append into block 1, so three sharers need 2 fresh blocks.
        assertFalse(blocks.canReserveAll(new int[] {parent, first, second}, new int[] {1, 1, 1}));
        assertTrue(blocks.canReserveAll(new int[] {parent, first}, new int[] {1, 1}));
        int[][] slots = blocks.reserveAll(new int[] {parent, first}, new int[] {1, 1});
        assertArrayEquals(new int[] {6}, slots[0]);
        assertArrayEquals(new int[] {8}, slots[1]);
        blocks.checkInvariants();
        assertThrows(KvCacheFullException.class, () -> blocks.reserve(second, 1));
    }

    @Test
    void soleHolderReusesTailAfterRelease() {
        KvBlockManager blocks = new KvBlockManager(4, 4);
        int parent = blocks.newSequence();
        blocks.reserve(parent, 7);
        int child = blocks.forkAt(parent, 5);
        blocks.release(parent);
        blocks.checkInvariants();
        assertEquals(2, blocks.usedBlocks());
        // The child now holds block 1 alone, so it overwrites the parent's stale slots 5 and 6.
        assertArrayEquals(new int[] {5, 6, 7}, blocks.reserve(child, 3));
        blocks.checkInvariants();
    }

    @Test
    void cacheFullLeavesStateUnchanged() {
        KvBlockManager blocks = new KvBlockManager(4, 2);
        int seq = blocks.newSequence();
        blocks.reserve(seq, 5);
        assertFalse(blocks.canReserve(seq, 4));
        assertTrue(blocks.canReserve(seq, 3));
        KvCacheFullException error =
                assertThrows(KvCacheFullException.class, () -> blocks.reserve(seq, 4));
        assertEquals("KV cache full: 4 tokens for 1 sequence(s) need 1 fresh blocks of 4 slots, "
                + "but only 0 of 2 blocks are free. Release finished sequences or enlarge the "
                + "pool.", error.getMessage());
        assertEquals(5, blocks.length(seq));
        assertEquals(2, blocks.usedBlocks());
        blocks.checkInvariants();
    }

    @Test
    void truncateUndoesReservation() {
        KvBlockManager blocks = new KvBlockManager(4, 8);
        int parent = blocks.newSequence();
        blocks.reserve(parent, 6);
        int child = blocks.forkAt(parent, 6);
        blocks.reserve(child, 5);
        blocks.truncate(child, 6);
        blocks.checkInvariants();
        assertArrayEquals(blocks.slots(parent), blocks.slots(child));
        assertEquals(2, blocks.usedBlocks());
        // The child's appended slots 6 and 7 stay written, so the parent moves to a fresh block.
        assertArrayEquals(new int[] {8}, blocks.reserve(parent, 1));
        blocks.truncate(parent, 0);
        blocks.checkInvariants();
        assertEquals(0, blocks.length(parent));
    }

    @Test
    void randomForksAndReleasesKeepInvariants() {
        Random random = new Random(1);
        KvBlockManager blocks = new KvBlockManager(4, 64);
        List<Integer> live = new ArrayList<>();
        for (int operation = 0; operation < 2000; operation++) {
            int choice = live.isEmpty() ? 0 : random.nextInt(10);
            if (choice == 0) {
                live.add(blocks.newSequence());
            } else if (choice <= 3) {
                int parent = live.get(random.nextInt(live.size()));
                live.add(blocks.forkAt(parent, random.nextInt(blocks.length(parent) + 1)));
            } else if (choice <= 5 || blocks.freeBlocks() < 4) {
                blocks.release(live.remove(random.nextInt(live.size())));
            } else {
                int seq = live.get(random.nextInt(live.size()));
                int n = 1 + random.nextInt(6);
                if (blocks.canReserve(seq, n)) {
                    int before = blocks.length(seq);
                    int[] slots = blocks.reserve(seq, n);
                    assertArrayEquals(slots, Arrays.copyOfRange(blocks.slots(seq), before,
                            before + n));
                } else {
                    assertThrows(KvCacheFullException.class, () -> blocks.reserve(seq, n));
                }
            }
            blocks.checkInvariants();
            assertNoSharedWritableSlot(blocks, live);
        }
        for (int seq : live) {
            blocks.release(seq);
            blocks.checkInvariants();
        }
        assertEquals(0, blocks.usedBlocks());
        assertEquals(64, blocks.freeBlocks());
    }

    @Test
    void invalidArgumentsAreRejected() {
        KvBlockManager blocks = new KvBlockManager(4, 2);
        int seq = blocks.newSequence();
        blocks.reserve(seq, 3);
        assertThrows(IllegalArgumentException.class, () -> blocks.forkAt(seq, 4));
        assertThrows(IllegalArgumentException.class, () -> blocks.forkAt(seq, -1));
        assertThrows(IllegalArgumentException.class, () -> blocks.reserve(seq, -1));
        assertThrows(IllegalArgumentException.class,
                () -> blocks.reserveAll(new int[] {seq, seq}, new int[] {1, 1}));
        blocks.release(seq);
        IllegalArgumentException unknown =
                assertThrows(IllegalArgumentException.class, () -> blocks.slots(seq));
        assertTrue(unknown.getMessage().contains("Unknown KV sequence " + seq));
        assertThrows(IllegalArgumentException.class, () -> new KvBlockManager(0, 4));
    }

    /**
     * Checks that the next slot each sequence would append into is read by no other sequence:
     * appends never corrupt a shared prefix.
     */
    private static void assertNoSharedWritableSlot(KvBlockManager blocks, List<Integer> live) {
        for (int seq : live) {
            if (!blocks.canReserve(seq, 1) || blocks.freeBlocks() == 0) {
                continue;
            }
            // Reserve one slot on a copy of the sequence, then undo it.
            int probe = blocks.forkAt(seq, blocks.length(seq));
            int[] slot = blocks.reserve(probe, 1);
            for (int other : live) {
                assertFalse(toSet(blocks.slots(other)).contains(slot[0]),
                        "slot " + slot[0] + " of sequence " + other + " would be overwritten");
            }
            blocks.release(probe);
        }
    }

    private static Set<Integer> distinctBlocks(int[] slots, int blockTokens) {
        Set<Integer> result = new HashSet<>();
        for (int slot : slots) {
            result.add(slot / blockTokens);
        }
        return result;
    }

    private static Set<Integer> toSet(int[] values) {
        Set<Integer> result = new HashSet<>();
        for (int value : values) {
            result.add(value);
        }
        return result;
    }
}
