package dev.treepo.tree;

/**
 * Work counters of one prompt's tree.
 *
 * @param segments segment results received, which is the number of inference calls
 * @param decodedTokens tokens generated over all segments, including those of paths that were later
 *     cut by a fallback
 * @param fallbacks levels at which the prompt had no active path and regrew finished ones
 * @param levels levels decoded so far
 * @param tokensInLeaves response tokens over all leaves, appended tokens included
 */
public record TreeStats(int segments, long decodedTokens, int fallbacks, int levels, long tokensInLeaves) {
}
