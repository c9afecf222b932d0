package dev.treepo.trainer;

/** Estimator that turns leaf rewards into per-leaf advantages. */
public enum AdvantageEstimator {
    /** Deviation from the mean of every shared-ancestor group, averaged, then whitened by tokens. */
    TREEPO,
    /** Deviation from the prompt group's mean divided by its standard deviation. */
    GRPO
}
