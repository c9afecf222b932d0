package dev.treepo.tree;

import dev.treepo.tree.FallbackPlanner.Regrowth;
import dev.treepo.tree.TreeConfig.Mode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rollout tree of one prompt, grown level by level until it has exactly {@code width} leaves.
 * The caller sends each level's {@link SegmentRequest}s to a worker and hands all results back in
 * one {@link #onLevelDecoded} call; different prompts' trees progress independently.
 *
 * <p>After each level the tree:
 *
 * <ol>
 *   <li>adds each segment to its path and asks the {@link Scenario} whether the path is finished;
 *       the hard limits (max response tokens, then max depth) apply when the scenario returns empty;
 *   <li>asks the scenario what to append to each continuing path; a path left with no room for a
 *       generated token finishes as MAX_TOKENS;
 *   <li>computes the branching budget ({@link BranchBudget}) and splits it ({@link BranchAllocation})
 *       among the continuing paths; INDEPENDENT mode gives each exactly one child;
 *   <li>when no path continues and fewer than {@code width} paths are finished, regrows finished
 *       paths ({@link FallbackPlanner}).
 * </ol>
 *
 * <p>Invariants, checked by {@link #checkInvariants()}: finished plus in-flight paths never exceed
 * the width; node ids are unique and never reused; every path has at most maxDepth nodes and at most
 * the max response tokens; a complete tree has exactly {@code width} leaves.
 *
 * <p>Segment lengths: every non-final node contains exactly {@code segmentTokens} generated tokens,
 * except (a) a node that ended at EOS while the scenario continued the path (a multi-turn turn end),
 * (b) a node decoded with fewer tokens left under the max response tokens, which then finishes, and
 * (c) a node regrown after a fallback cut inside a node, which also contains the kept part of the cut
 * node. Appended tokens come on top of the generated ones.
 *
 * <p>Text: results carry their own decoded text and the tree keeps one text per node. A fallback cut
 * inside a node needs the text of the kept part; the decoder given to the constructor re-decodes it.
 * Without a decoder every fallback cut moves back to the start of the node it falls in.
 * NOTE: re-decoding a token span on its own can differ from the worker's text at the span edges for
 * tokenizers whose pieces depend on their neighbours (for example a leading-space marker).
 *
 * <p>Not thread-safe: one actor or thread drives one tree.
 */
public final class PromptTree {

    /**
     * One node to decode: build its context from a prefix of the parent's context plus
     * {@code appendTokens}, then decode up to {@code maxNewTokens} tokens.
     *
     * <p>The worker keeps one KV sequence per node id. A plain child keeps the parent's whole context.
     * A fallback child names a finished leaf as parent and keeps only the prompt plus the cut response,
     * so the KV of that prefix is reused. The tree may name any finished leaf of the prompt as a parent
     * until the tree is complete, so the worker must keep leaf sequences until then.
     *
     * @param nodeId the new node; unique within the tree and never reused
     * @param parentNodeId the node whose context is kept, or -1 to start from an empty context
     * @param keepTokens tokens of the parent's full context (prompt, response and appended tokens) to
     *     keep; 0 when {@code parentNodeId} is -1
     * @param appendTokens tokens to add after the kept context before decoding: the prompt for a root,
     *     the scenario's appended tokens otherwise (often empty)
     * @param maxNewTokens max tokens to decode: min(segment tokens, tokens left under the max response
     *     tokens); at least 1
     * @param depth position of the new node on its path, 1 for a root
     */
    public record SegmentRequest(
            int nodeId, int parentNodeId, int keepTokens, int[] appendTokens, int maxNewTokens, int depth) {
    }

    /**
     * Worker output for one {@link SegmentRequest}.
     *
     * @param nodeId the request's node id
     * @param tokens generated token ids, 1 to {@code maxNewTokens} of them; when {@code endedWithEos}
     *     the last one is the EOS token
     * @param logprobs log-probability of each sampled token, finite
     * @param endedWithEos whether decoding stopped because the model emitted EOS
     * @param text decoded text of these tokens
     */
    public record SegmentResult(int nodeId, int[] tokens, float[] logprobs, boolean endedWithEos, String text) {
    }

    /**
     * One finished path: a trajectory to score and train on. The arrays belong to the leaf and must
     * not be modified.
     *
     * @param promptIndex the prompt's index in its batch
     * @param nodeId the path's last node
     * @param nodePath node ids from the root to this leaf. Two leaves of the same prompt share exactly
     *     the nodes whose tokens they share, so the path is the key of the tree advantage's sub-groups
     * @param responseTokens generated and appended tokens after the prompt
     * @param logprobs one per response token; 0 for appended tokens
     * @param lossMask one per response token: 1 for generated tokens, 0 for appended ones
     * @param finishReason why the path stopped
     * @param segmentLengths response tokens of each node on {@code nodePath}; they sum to the response
     *     length
     */
    public record Leaf(
            int promptIndex,
            int nodeId,
            int[] nodePath,
            int[] responseTokens,
            float[] logprobs,
            float[] lossMask,
            FinishReason finishReason,
            int[] segmentLengths) {

        public Leaf {
            if (nodePath == null || responseTokens == null || logprobs == null || lossMask == null
                    || finishReason == null || segmentLengths == null) {
                throw new IllegalArgumentException("Leaf of node " + nodeId + " has a null field.");
            }
            int length = responseTokens.length;
            if (logprobs.length != length || lossMask.length != length) {
                throw new IllegalArgumentException("Leaf of node " + nodeId + " has " + length
                        + " response tokens but " + logprobs.length + " logprobs and " + lossMask.length
                        + " loss mask values; all three must have the same length.");
            }
            if (nodePath.length == 0 || nodePath[nodePath.length - 1] != nodeId) {
                throw new IllegalArgumentException("Leaf node path " + Arrays.toString(nodePath)
                        + " must end with the leaf's node " + nodeId + ".");
            }
            if (segmentLengths.length != nodePath.length || Arrays.stream(segmentLengths).sum() != length) {
                throw new IllegalArgumentException("Leaf of node " + nodeId + " has segment lengths "
                        + Arrays.toString(segmentLengths) + " for " + nodePath.length + " nodes and "
                        + length + " response tokens; there must be one length per node, summing to the "
                        + "response length.");
            }
        }

        /** Returns the number of response tokens. */
        public int responseLength() {
            return responseTokens.length;
        }

        /** Returns the number of generated (trained, loss mask 1) tokens, the leaf's weight in whitening. */
        public int generatedTokens() {
            int count = 0;
            for (float mask : lossMask) {
                if (mask != 0) {
                    count++;
                }
            }
            return count;
        }
    }

    private static final Logger log = LoggerFactory.getLogger(PromptTree.class);
    private static final int[] NO_TOKENS = new int[0];

    private final int promptIndex;
    private final int[] promptTokens;
    private final TreeConfig config;
    private final Scenario scenario;
    private final RandomGenerator rng;
    private final Function<int[], String> decoder;
    private final int maxResponseTokens;

    // Requests of the level in flight, in the order they were issued.
    private final Map<Integer, Pending> pending = new LinkedHashMap<>();
    private final List<Leaf> leaves = new ArrayList<>();
    private final List<TreePath> leafPaths = new ArrayList<>();
    private final Map<Integer, String> leafTexts = new HashMap<>();
    private int nextNodeId;
    private boolean started;

    private int segmentsDecoded;
    private long decodedTokens;
    private int fallbacks;
    private int levels;

    /** A request in flight: the path it extends and the tokens it appends to that path's response. */
    private record Pending(SegmentRequest request, TreePath base, int[] responseAppend) {
    }

    /** Creates a tree whose fallback cuts always fall on node boundaries (no decoder). */
    public PromptTree(int promptIndex, int[] promptTokens, TreeConfig config, Scenario scenario, RandomGenerator rng) {
        this(promptIndex, promptTokens, config, scenario, rng, null);
    }

    /**
     * Creates a tree for one prompt.
     *
     * @param promptIndex the prompt's index in its batch, copied into every leaf
     * @param promptTokens the prompt token ids, at least one
     * @param config the tree settings
     * @param scenario decides finishes and appended tokens
     * @param rng the only source of randomness (fallback sources and cuts)
     * @param decoder decodes generated token ids to text for fallback cuts inside a node; null to cut
     *     only at node boundaries
     */
    public PromptTree(int promptIndex, int[] promptTokens, TreeConfig config, Scenario scenario, RandomGenerator rng,
            Function<int[], String> decoder) {
        if (promptTokens == null || promptTokens.length == 0) {
            throw new IllegalArgumentException("Prompt " + promptIndex + " has no tokens; every prompt needs at least one.");
        }
        if (config == null || scenario == null || rng == null) {
            throw new IllegalArgumentException("PromptTree needs a config, a scenario and a random generator.");
        }
        this.promptIndex = promptIndex;
        this.promptTokens = promptTokens.clone();
        this.config = config;
        this.scenario = scenario;
        this.rng = rng;
        this.decoder = decoder;
        this.maxResponseTokens = config.effectiveMaxResponseTokens();
    }

    /**
     * Returns the first level: {@code rootDivergence} requests from the prompt, or {@code width} in
     * INDEPENDENT mode.
     *
     * @throws IllegalStateException when called twice
     */
    public List<SegmentRequest> start() {
        if (started) {
            throw new IllegalStateException("Tree of prompt " + promptIndex + " was already started.");
        }
        started = true;
        TreePath empty = TreePath.empty(promptTokens);
        for (int i = 0; i < config.initialPaths(); i++) {
            issue(empty, -1, 0, promptTokens, NO_TOKENS, 1);
        }
        return requestsInFlight();
    }

    /**
     * Takes the results of every request of the current level, in any order, and returns the next
     * level's requests. An empty list means the tree is complete.
     *
     * @throws IllegalStateException when the tree was not started or is already complete
     * @throws IllegalArgumentException when the results do not match the level's requests one to one,
     *     or a result breaks its request's limits
     */
    public List<SegmentRequest> onLevelDecoded(List<SegmentResult> results) {
        if (!started || pending.isEmpty()) {
            throw new IllegalStateException("Tree of prompt " + promptIndex + " has no level in flight; "
                    + (started ? "it is complete." : "call start() first."));
        }
        Map<Integer, SegmentResult> byNode = matchResults(results);
        levels++;

        List<TreePath> continuing = new ArrayList<>();
        int justFinished = 0;
        for (Pending p : pending.values()) {
            SegmentResult result = byNode.get(p.request().nodeId());
            TreePath path = p.base().extend(p.request().nodeId(), p.responseAppend(), result);
            segmentsDecoded++;
            decodedTokens += result.tokens().length;
            Segment segment = new Segment(result.tokens().clone(), result.logprobs().clone(),
                    result.endedWithEos(), result.text());
            Optional<FinishReason> reason = classify(path, segment);
            if (reason.isPresent()) {
                finish(path, reason.get());
                justFinished++;
            } else {
                continuing.add(path);
            }
        }
        pending.clear();

        List<TreePath> growing = new ArrayList<>();
        List<int[]> appends = new ArrayList<>();
        for (TreePath path : continuing) {
            int[] append = appendFor(path);
            if (path.responseLength() + append.length >= maxResponseTokens) {
                finish(path, FinishReason.MAX_TOKENS);
                justFinished++;
            } else {
                growing.add(path);
                appends.add(append);
            }
        }

        if (!growing.isEmpty()) {
            branch(growing, appends, justFinished);
        } else if (leaves.size() < config.width()) {
            fallback();
        }
        return requestsInFlight();
    }

    /** Returns the prompt's index in its batch. */
    public int promptIndex() {
        return promptIndex;
    }

    /** Returns whether the tree has all its leaves and nothing in flight. */
    public boolean complete() {
        return started && pending.isEmpty() && leaves.size() == config.width();
    }

    /** Returns the finished paths so far, in finishing order; exactly {@code width} when complete. */
    public List<Leaf> leaves() {
        return Collections.unmodifiableList(leaves);
    }

    /**
     * Returns the generated text of a finished leaf, the same text the scenario saw, for reward
     * functions that must agree with the finish decision.
     *
     * @throws IllegalArgumentException when {@code leaf} is not a leaf of this tree
     */
    public String responseText(Leaf leaf) {
        String text = leafTexts.get(leaf.nodeId());
        if (text == null || leaf.promptIndex() != promptIndex) {
            throw new IllegalArgumentException("Node " + leaf.nodeId() + " of prompt " + leaf.promptIndex()
                    + " is not a leaf of the tree of prompt " + promptIndex + ".");
        }
        return text;
    }

    /** Returns the work counters so far. */
    public TreeStats stats() {
        long leafTokens = 0;
        for (Leaf leaf : leaves) {
            leafTokens += leaf.responseLength();
        }
        return new TreeStats(segmentsDecoded, decodedTokens, fallbacks, levels, leafTokens);
    }

    /**
     * Checks the tree's invariants and throws IllegalStateException naming the first one broken.
     * Cheap enough to call after every level in tests.
     */
    public void checkInvariants() {
        int width = config.width();
        if (leaves.size() + pending.size() > width) {
            throw new IllegalStateException("Prompt " + promptIndex + " has " + leaves.size() + " finished and "
                    + pending.size() + " in-flight paths, more than the width " + width + ".");
        }
        if (started && pending.isEmpty() && leaves.size() != width) {
            throw new IllegalStateException("Prompt " + promptIndex + " has nothing in flight but "
                    + leaves.size() + " of " + width + " leaves.");
        }
        Set<Integer> leafNodes = new HashSet<>();
        for (Leaf leaf : leaves) {
            if (!leafNodes.add(leaf.nodeId()) || pending.containsKey(leaf.nodeId())) {
                throw new IllegalStateException("Node id " + leaf.nodeId() + " of prompt " + promptIndex
                        + " is used twice.");
            }
            if (leaf.nodePath().length > config.maxDepth() || leaf.responseLength() > maxResponseTokens) {
                throw new IllegalStateException("Leaf " + leaf.nodeId() + " of prompt " + promptIndex + " has "
                        + leaf.nodePath().length + " nodes and " + leaf.responseLength()
                        + " tokens, above the limits " + config.maxDepth() + " and " + maxResponseTokens + ".");
            }
            if (Arrays.stream(leaf.nodePath()).distinct().count() != leaf.nodePath().length) {
                throw new IllegalStateException("Leaf " + leaf.nodeId() + " of prompt " + promptIndex
                        + " repeats a node in its path " + Arrays.toString(leaf.nodePath()) + ".");
            }
        }
        for (int nodeId : pending.keySet()) {
            if (nodeId < 0 || nodeId >= nextNodeId) {
                throw new IllegalStateException("In-flight node id " + nodeId + " of prompt " + promptIndex
                        + " was never issued.");
            }
        }
    }

    private Map<Integer, SegmentResult> matchResults(List<SegmentResult> results) {
        if (results == null || results.size() != pending.size()) {
            throw new IllegalArgumentException("Prompt " + promptIndex + " expects " + pending.size()
                    + " results for this level, got " + (results == null ? "null" : results.size())
                    + "; hand back exactly one result per request.");
        }
        Map<Integer, SegmentResult> byNode = new HashMap<>();
        for (SegmentResult result : results) {
            Pending p = pending.get(result.nodeId());
            if (p == null) {
                throw new IllegalArgumentException("Result for node " + result.nodeId() + " does not match a "
                        + "request in flight for prompt " + promptIndex + ".");
            }
            if (byNode.put(result.nodeId(), result) != null) {
                throw new IllegalArgumentException("Two results for node " + result.nodeId() + " of prompt "
                        + promptIndex + "; hand back exactly one result per request.");
            }
            validateResult(p.request(), result);
        }
        return byNode;
    }

    private void validateResult(SegmentRequest request, SegmentResult result) {
        int node = result.nodeId();
        if (result.tokens() == null || result.logprobs() == null || result.text() == null) {
            throw new IllegalArgumentException("Result for node " + node + " has null tokens, logprobs or text.");
        }
        int count = result.tokens().length;
        if (count < 1 || count > request.maxNewTokens()) {
            throw new IllegalArgumentException("Result for node " + node + " has " + count
                    + " tokens; the request allowed 1 to " + request.maxNewTokens() + ".");
        }
        if (result.logprobs().length != count) {
            throw new IllegalArgumentException("Result for node " + node + " has " + count + " tokens but "
                    + result.logprobs().length + " logprobs; return one logprob per token.");
        }
        for (int i = 0; i < count; i++) {
            if (!Float.isFinite(result.logprobs()[i])) {
                throw new IllegalArgumentException("Result for node " + node + " has logprob "
                        + result.logprobs()[i] + " at token " + i + "; logprobs must be finite.");
            }
        }
    }

    /** Returns the scenario's decision, or the hard limit the path has reached, or empty. */
    private Optional<FinishReason> classify(TreePath path, Segment segment) {
        Optional<FinishReason> reason = scenario.finish(path, segment);
        if (reason == null) {
            throw new IllegalStateException("Scenario " + scenario.getClass().getName()
                    + " returned null from finish; return Optional.empty() to continue a path.");
        }
        if (reason.isPresent()) {
            return reason;
        }
        if (path.responseLength() >= maxResponseTokens) {
            return Optional.of(FinishReason.MAX_TOKENS);
        }
        if (path.depth() >= config.maxDepth()) {
            return Optional.of(FinishReason.MAX_DEPTH);
        }
        return Optional.empty();
    }

    private int[] appendFor(TreePath path) {
        int[] append = scenario.appendBeforeNextSegment(path);
        if (append == null) {
            throw new IllegalStateException("Scenario " + scenario.getClass().getName()
                    + " returned null from appendBeforeNextSegment; return an empty array to append nothing.");
        }
        return append.clone();
    }

    private void finish(TreePath path, FinishReason reason) {
        Leaf leaf = path.toLeaf(promptIndex, reason);
        leaves.add(leaf);
        leafPaths.add(path);
        leafTexts.put(leaf.nodeId(), path.responseText());
    }

    private void branch(List<TreePath> growing, List<int[]> appends, int justFinished) {
        int active = growing.size();
        int[] children;
        if (config.mode() == Mode.INDEPENDENT) {
            children = new int[active];
            Arrays.fill(children, 1);
        } else {
            int total = BranchBudget.total(config.width(), leaves.size(), active, justFinished, config.branchFactor());
            float[] scores = new float[active];
            for (int i = 0; i < active; i++) {
                scores[i] = growing.get(i).logprobSum();
            }
            children = BranchAllocation.allocate(total, scores, config.allocation(), config.allocationTemperature());
        }
        for (int i = 0; i < active; i++) {
            TreePath path = growing.get(i);
            int keep = promptTokens.length + path.responseLength();
            for (int c = 0; c < children[i]; c++) {
                issue(path, path.lastNodeId(), keep, appends.get(i), appends.get(i), path.depth() + 1);
            }
        }
    }

    private void fallback() {
        fallbacks++;
        int slots = config.width() - leaves.size();
        List<Regrowth> plans = FallbackPlanner.plan(leaves, slots, config, rng);
        log.debug("Prompt {}: no active path with {} of {} leaves; regrowing {}", promptIndex, leaves.size(),
                config.width(), plans);
        for (Regrowth plan : plans) {
            if (plan.sourceIndex() < 0) {
                TreePath empty = TreePath.empty(promptTokens);
                for (int c = 0; c < plan.copies(); c++) {
                    issue(empty, -1, 0, promptTokens, NO_TOKENS, 1);
                }
                continue;
            }
            Leaf source = leaves.get(plan.sourceIndex());
            TreePath sourcePath = leafPaths.get(plan.sourceIndex());
            int kept = decoder == null ? sourcePath.nodeStartAtOrBefore(plan.keptTokens()) : plan.keptTokens();
            TreePath cut = sourcePath.cut(kept, decoder);
            int[] append = kept == 0 ? NO_TOKENS : appendFor(cut);
            // Appended tokens must leave room for a generated token; otherwise cut back a node.
            while (kept > 0 && kept + append.length >= maxResponseTokens) {
                kept = sourcePath.nodeStartAtOrBefore(kept - 1);
                cut = sourcePath.cut(kept, decoder);
                append = kept == 0 ? NO_TOKENS : appendFor(cut);
            }
            int keep = promptTokens.length + kept;
            for (int c = 0; c < plan.copies(); c++) {
                issue(cut, source.nodeId(), keep, append, append, cut.nextDepth());
            }
        }
    }

    /** Issues one request extending {@code base}; {@code responseAppend} becomes part of the response. */
    private void issue(TreePath base, int parentNodeId, int keepTokens, int[] requestAppend, int[] responseAppend,
            int depth) {
        int room = maxResponseTokens - base.responseLength() - responseAppend.length;
        int maxNew = Math.min(config.segmentTokens(), room);
        if (maxNew < 1 || depth > config.maxDepth()) {
            throw new IllegalStateException("Prompt " + promptIndex + " would request " + maxNew
                    + " new tokens at depth " + depth + "; this is a bug in the tree's limit checks.");
        }
        int nodeId = nextNodeId++;
        SegmentRequest request = new SegmentRequest(nodeId, parentNodeId, keepTokens, requestAppend.clone(), maxNew,
                depth);
        pending.put(nodeId, new Pending(request, base, responseAppend));
    }

    private List<SegmentRequest> requestsInFlight() {
        List<SegmentRequest> requests = new ArrayList<>(pending.size());
        for (Pending p : pending.values()) {
            requests.add(p.request());
        }
        return requests;
    }
}
