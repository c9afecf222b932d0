package dev.treepo.model.train;

/**
 * Optimizer and loss settings of a {@link PolicyTrainer}.
 *
 * @param learningRate AdamW learning rate; change it later with
 *     {@link PolicyTrainer#setLearningRate} for schedules
 * @param weightDecay decoupled weight decay, applied to every parameter
 * @param maxGradNorm global gradient-norm clip; 0 turns it off
 * @param policyLoss the RL loss; SFT steps ignore it
 */
public record TrainerSettings(double learningRate, double weightDecay, double maxGradNorm, PolicyLoss policyLoss) {

    public TrainerSettings {
        if (policyLoss == null) {
            throw new IllegalArgumentException("policyLoss must not be null; use PolicyLoss.defaults().");
        }
    }

    /** Returns the TreePO script's values: learning rate 1e-6, weight decay 0.1, clip 1.0. */
    public static TrainerSettings defaults() {
        return new TrainerSettings(1e-6, 0.1, 1.0, PolicyLoss.defaults());
    }
}
