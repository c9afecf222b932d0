package dev.treepo.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WarmupLearningRateTest {

    private static final double EPS = 1e-12;

    @Test
    void rampRisesLinearlyToPeak() {
        WarmupLearningRate schedule = new WarmupLearningRate(1e-3, 100, 0.1, 0.05);

        assertEquals(1e-4, schedule.at(0), EPS);
        assertEquals(5e-4, schedule.at(4), EPS);
        assertEquals(1e-3, schedule.at(9), EPS);
    }

    @Test
    void cosineDecaysFromPeakToFloor() {
        WarmupLearningRate schedule = new WarmupLearningRate(1e-3, 101, 0.0, 0.1);

        assertEquals(1e-3, schedule.at(0), EPS);
        assertEquals(0.55e-3, schedule.at(50), EPS);
        assertEquals(1e-4, schedule.at(100), EPS);
    }

    @Test
    void rateNeverRisesAfterRamp() {
        WarmupLearningRate schedule = new WarmupLearningRate(3e-3, 1500, 0.05, 0.05);

        for (int step = 76; step < 1500; step++) {
            assertTrue(schedule.at(step) <= schedule.at(step - 1), "rate rose at step " + step);
        }
        assertEquals(1.5e-4, schedule.at(1499), EPS);
    }

    @Test
    void singleStepUsesPeak() {
        assertEquals(2e-3, new WarmupLearningRate(2e-3, 1, 0.0, 0.5).at(0), EPS);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new WarmupLearningRate(0, 10, 0.1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new WarmupLearningRate(1e-3, 0, 0.1, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new WarmupLearningRate(1e-3, 10, 1.0, 0.1));
        assertThrows(IllegalArgumentException.class, () -> new WarmupLearningRate(1e-3, 10, 0.1, 1.5));
    }

    @Test
    void stepOutsideScheduleIsRejected() {
        WarmupLearningRate schedule = new WarmupLearningRate(1e-3, 10, 0.1, 0.1);

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> schedule.at(10));
        assertTrue(error.getMessage().contains("10"), error.getMessage());
    }
}
