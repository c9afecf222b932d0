/**
 * Policy training: token log-probabilities, the clipped PPO loss with dual clip and optional
 * reference KL, AdamW, and {@link dev.treepo.model.train.PolicyTrainer}, which runs supervised and
 * RL steps on a Qwen2 model.
 */
package dev.treepo.model.train;
