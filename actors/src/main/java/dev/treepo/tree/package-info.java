/**
 * The TreePO rollout algorithms, free of actors and tensors: the per-prompt tree ({@link
 * dev.treepo.tree.PromptTree}), its branching budget, allocation and fallback, the {@link
 * dev.treepo.tree.Scenario} extension point, and the tree advantage.
 */
package dev.treepo.tree;
