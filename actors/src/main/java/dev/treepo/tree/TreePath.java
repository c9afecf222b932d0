package dev.treepo.tree;

import dev.treepo.tree.PromptTree.Leaf;
import dev.treepo.tree.PromptTree.SegmentResult;
import java.util.Arrays;
import java.util.function.Function;

/**
 * One path of a prompt's tree: the nodes from a root to the newest node and the response they hold.
 * Immutable, so sibling children share their parent's path safely; each extension copies the
 * arrays, which costs O(response length) per segment.
 *
 * <p>After a fallback cut inside a node, the kept part of that node stays on the path as a partial
 * last node. The next {@link #extend} absorbs it: the new node replaces the partial one and contains
 * its kept tokens plus the new segment. The regrown path therefore never claims the old node id,
 * whose full content it does not share, and stays a sibling of that node in the tree.
 */
final class TreePath implements PathView {

    private static final int[] NO_INTS = new int[0];
    private static final float[] NO_FLOATS = new float[0];
    private static final String[] NO_TEXTS = new String[0];

    private final int[] promptTokens;
    private final int[] nodePath;
    private final int[] tokens;
    private final float[] logprobs;
    private final float[] lossMask;
    private final int[] segmentLengths;
    // Generated text per node, so a cut at a node boundary needs no re-decoding.
    private final String[] segmentTexts;
    private final boolean lastNodePartial;
    private final String responseText;

    private TreePath(int[] promptTokens, int[] nodePath, int[] tokens, float[] logprobs, float[] lossMask,
            int[] segmentLengths, String[] segmentTexts, boolean lastNodePartial) {
        this.promptTokens = promptTokens;
        this.nodePath = nodePath;
        this.tokens = tokens;
        this.logprobs = logprobs;
        this.lossMask = lossMask;
        this.segmentLengths = segmentLengths;
        this.segmentTexts = segmentTexts;
        this.lastNodePartial = lastNodePartial;
        this.responseText = String.join("", segmentTexts);
    }

    /** Returns the empty path of a prompt: no node, no response. */
    static TreePath empty(int[] promptTokens) {
        return new TreePath(promptTokens, NO_INTS, NO_INTS, NO_FLOATS, NO_FLOATS, NO_INTS, NO_TEXTS, false);
    }

    /**
     * Returns this path extended by node {@code nodeId}, which contains {@code appended} (loss mask 0)
     * followed by the result's generated tokens (loss mask 1). A partial last node is absorbed.
     */
    TreePath extend(int nodeId, int[] appended, SegmentResult result) {
        int added = appended.length + result.tokens().length;
        int[] newTokens = Arrays.copyOf(tokens, tokens.length + added);
        float[] newLogprobs = Arrays.copyOf(logprobs, tokens.length + added);
        float[] newMask = Arrays.copyOf(lossMask, tokens.length + added);
        System.arraycopy(appended, 0, newTokens, tokens.length, appended.length);
        int generatedStart = tokens.length + appended.length;
        System.arraycopy(result.tokens(), 0, newTokens, generatedStart, result.tokens().length);
        System.arraycopy(result.logprobs(), 0, newLogprobs, generatedStart, result.logprobs().length);
        Arrays.fill(newMask, generatedStart, newMask.length, 1f);

        int[] newPath;
        int[] newLengths;
        String[] newTexts;
        if (lastNodePartial) {
            int last = nodePath.length - 1;
            newPath = nodePath.clone();
            newPath[last] = nodeId;
            newLengths = segmentLengths.clone();
            newLengths[last] += added;
            newTexts = segmentTexts.clone();
            newTexts[last] = segmentTexts[last] + result.text();
        } else {
            newPath = Arrays.copyOf(nodePath, nodePath.length + 1);
            newPath[nodePath.length] = nodeId;
            newLengths = Arrays.copyOf(segmentLengths, segmentLengths.length + 1);
            newLengths[segmentLengths.length] = added;
            newTexts = Arrays.copyOf(segmentTexts, segmentTexts.length + 1);
            newTexts[segmentTexts.length] = result.text();
        }
        return new TreePath(promptTokens, newPath, newTokens, newLogprobs, newMask, newLengths, newTexts, false);
    }

    /**
     * Returns the path cut to its first {@code keptTokens} response tokens. A cut inside a node keeps
     * that node as a partial last node whose text {@code decoder} re-decodes from its kept generated
     * tokens; {@code decoder} may be null when the cut is on a node boundary.
     */
    TreePath cut(int keptTokens, Function<int[], String> decoder) {
        if (keptTokens < 0 || keptTokens >= tokens.length) {
            throw new IllegalArgumentException("Cut point " + keptTokens + " is outside [0, "
                    + tokens.length + "); a fallback must keep fewer tokens than its source has.");
        }
        if (keptTokens == 0) {
            return empty(promptTokens);
        }
        int wholeNodes = 0;
        int boundary = 0;
        while (boundary + segmentLengths[wholeNodes] <= keptTokens) {
            boundary += segmentLengths[wholeNodes];
            wholeNodes++;
        }
        boolean partial = keptTokens > boundary;
        int nodes = wholeNodes + (partial ? 1 : 0);
        int[] newLengths = Arrays.copyOf(segmentLengths, nodes);
        String[] newTexts = Arrays.copyOf(segmentTexts, nodes);
        if (partial) {
            if (decoder == null) {
                throw new IllegalStateException("Cut point " + keptTokens + " is inside a node but no "
                        + "decoder was given; snap cuts to node boundaries or pass a decoder.");
            }
            newLengths[wholeNodes] = keptTokens - boundary;
            newTexts[wholeNodes] = decoder.apply(generatedTokens(boundary, keptTokens));
        }
        return new TreePath(promptTokens, Arrays.copyOf(nodePath, nodes), Arrays.copyOf(tokens, keptTokens),
                Arrays.copyOf(logprobs, keptTokens), Arrays.copyOf(lossMask, keptTokens), newLengths, newTexts,
                partial);
    }

    /** Returns the response position where the node containing {@code position} starts. */
    int nodeStartAtOrBefore(int position) {
        int start = 0;
        for (int length : segmentLengths) {
            if (start + length > position) {
                return start;
            }
            start += length;
        }
        return start;
    }

    /** Returns the generated tokens (loss mask 1) in response positions [from, to). */
    private int[] generatedTokens(int from, int to) {
        int[] generated = new int[to - from];
        int count = 0;
        for (int i = from; i < to; i++) {
            if (lossMask[i] != 0) {
                generated[count++] = tokens[i];
            }
        }
        return Arrays.copyOf(generated, count);
    }

    /** Returns the node id of the newest node; the path must not be empty. */
    int lastNodeId() {
        return nodePath[nodePath.length - 1];
    }

    /** Returns the depth of the node that the next extension adds or completes. */
    int nextDepth() {
        return lastNodePartial ? nodePath.length : nodePath.length + 1;
    }

    /** Returns the sum of the sampled-token logprobs, the allocation score of this path. */
    float logprobSum() {
        float sum = 0;
        for (float logprob : logprobs) {
            sum += logprob;
        }
        return sum;
    }

    /** Returns the finished leaf of this path. */
    Leaf toLeaf(int promptIndex, FinishReason reason) {
        return new Leaf(promptIndex, lastNodeId(), nodePath.clone(), tokens.clone(), logprobs.clone(),
                lossMask.clone(), reason, segmentLengths.clone());
    }

    @Override
    public int[] promptTokens() {
        return promptTokens.clone();
    }

    @Override
    public int[] responseTokens() {
        return tokens.clone();
    }

    @Override
    public float[] logprobs() {
        return logprobs.clone();
    }

    @Override
    public float[] lossMask() {
        return lossMask.clone();
    }

    @Override
    public int responseLength() {
        return tokens.length;
    }

    @Override
    public int depth() {
        return nodePath.length;
    }

    @Override
    public int[] segmentLengths() {
        return segmentLengths.clone();
    }

    @Override
    public String responseText() {
        return responseText;
    }
}
