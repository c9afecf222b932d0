package dev.treepo.trainer;

/**
 * Learning-rate schedule of the supervised warm-up: a linear ramp from near 0 to the peak over the
 * first {@code rampFraction} of the steps, then a cosine decay from the peak to
 * {@code floorFraction * peak} at the last step.
 *
 * <p>The ramp keeps Adam's first updates small while its second-moment estimate is still noisy.
 * Measured on the tiny model and the built-in task (docs/learning.md): 1500 steps with a peak of
 * 1e-3 reached 47% to 60% greedy held-out accuracy in three runs. A linear decay from 3e-3 to a
 * tenth without a ramp reached 8% to 18%.
 */
public final class WarmupLearningRate {

    /** Ramp share of {@link #standard}: 75 of the default 1500 steps. */
    public static final double STANDARD_RAMP_FRACTION = 0.05;
    /** Final share of the peak in {@link #standard}. */
    public static final double STANDARD_FLOOR_FRACTION = 0.05;

    private final double peak;
    private final int steps;
    private final int rampSteps;
    private final double floorFraction;

    /**
     * @param peak          learning rate at the end of the ramp, > 0
     * @param steps         total warm-up steps, >= 1
     * @param rampFraction  share of the steps spent ramping up, in [0, 1)
     * @param floorFraction final learning rate as a share of the peak, in [0, 1]
     */
    public WarmupLearningRate(double peak, int steps, double rampFraction, double floorFraction) {
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("Invalid peak learning rate " + peak + ": use a finite value > 0.");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("Invalid warm-up step count " + steps + ": use 1 or more.");
        }
        if (!(rampFraction >= 0 && rampFraction < 1)) {
            throw new IllegalArgumentException("Invalid ramp fraction " + rampFraction + ": use a value in [0, 1).");
        }
        if (!(floorFraction >= 0 && floorFraction <= 1)) {
            throw new IllegalArgumentException("Invalid floor fraction " + floorFraction + ": use a value in [0, 1].");
        }
        this.peak = peak;
        this.steps = steps;
        this.rampSteps = (int) Math.round(rampFraction * steps);
        this.floorFraction = floorFraction;
    }

    /** Returns the schedule that {@code treepo train} uses: a 5% ramp, then cosine decay to 5% of the peak. */
    public static WarmupLearningRate standard(double peak, int steps) {
        return new WarmupLearningRate(peak, steps, STANDARD_RAMP_FRACTION, STANDARD_FLOOR_FRACTION);
    }

    /** Returns the learning rate of the 0-based warm-up step {@code step}, in [0, steps). */
    public double at(int step) {
        if (step < 0 || step >= steps) {
            throw new IllegalArgumentException("Invalid warm-up step " + step + ": expected a value in [0, " + steps + ").");
        }
        if (step < rampSteps) {
            // Step 0 gets peak / rampSteps rather than 0, so that no step is wasted.
            return peak * (step + 1) / rampSteps;
        }
        int decaySteps = steps - rampSteps;
        double progress = decaySteps <= 1 ? 0.0 : (double) (step - rampSteps) / (decaySteps - 1);
        double cosine = 0.5 * (1 + Math.cos(Math.PI * progress));
        return peak * (floorFraction + (1 - floorFraction) * cosine);
    }
}
