package dev.treepo.trainer;

/**
 * Held-out accuracy on the problems of one difficulty level.
 *
 * @param level           difficulty level of the problems, 0 when their source gave none
 * @param problems        problems of this level that were evaluated
 * @param greedyAccuracy  fraction of them solved by greedy decoding
 * @param sampledAccuracy mean over them of the fraction of correct samples
 */
public record LevelAccuracy(int level, int problems, double greedyAccuracy, double sampledAccuracy) {}
