package dev.treepo.model.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostTensorTest {

    @Test
    void equalityComparesShapeAndContent() {
        HostTensor a = new HostTensor(new long[] {2, 2}, new float[] {1, 2, 3, Float.NaN});
        HostTensor b = new HostTensor(new long[] {2, 2}, new float[] {1, 2, 3, Float.NaN});
        HostTensor flat = new HostTensor(new long[] {4}, new float[] {1, 2, 3, Float.NaN});
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, flat);
        assertEquals(4, a.numel());
        assertEquals("HostTensor[2, 2]", a.toString());
    }

    @Test
    void shapeMustMatchData() {
        assertThrows(IllegalArgumentException.class,
                () -> new HostTensor(new long[] {3}, new float[2]));
        assertThrows(IllegalArgumentException.class,
                () -> new HostTensor(new long[] {-1}, new float[0]));
        assertEquals(1, new HostTensor(new long[0], new float[] {5}).numel());
        assertEquals(6, HostTensor.zeros(2, 3).numel());
    }
}
