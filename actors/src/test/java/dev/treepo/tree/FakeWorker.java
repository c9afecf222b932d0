package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.PromptTree.SegmentRequest;
import dev.treepo.tree.PromptTree.SegmentResult;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A decode worker for tree tests: it keeps one context per node id, as the real worker keeps one KV
 * sequence, builds each request's context from its parent's exactly as the request specifies, and
 * samples tokens from a seeded generator following a {@link Behaviour}. Results come back shuffled.
 */
final class FakeWorker {

    /** How the fake model writes. */
    enum Behaviour {
        /** Letters with stutters (repetition), occasional boxed answers (some left open) and EOS. */
        MIXED,
        /** Every segment ends with EOS at a random position, so every path ends after one segment. */
        EOS_IN_FIRST_SEGMENT,
        /** Random letters only: no EOS, no box, no repetition. */
        NEVER_FINISHES,
        /** Letters with frequent EOS, for multi-turn dialogues. */
        CHATTY
    }

    private final Behaviour behaviour;
    private final SplittableRandom rng;
    private final Map<Integer, int[]> contexts = new HashMap<>();

    FakeWorker(Behaviour behaviour, long seed) {
        this.behaviour = behaviour;
        this.rng = new SplittableRandom(seed * 7919 + 17);
    }

    /** Returns the full context (prompt, response and appended tokens) of a decoded node. */
    int[] context(int nodeId) {
        int[] context = contexts.get(nodeId);
        assertNotNull(context, "node " + nodeId + " was never decoded");
        return context;
    }

    List<SegmentResult> decode(List<SegmentRequest> requests) {
        List<SegmentResult> results = new ArrayList<>();
        for (SegmentRequest request : requests) {
            results.add(decodeOne(request));
        }
        // The tree must accept results in any order.
        for (int i = results.size() - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            SegmentResult swap = results.get(i);
            results.set(i, results.get(j));
            results.set(j, swap);
        }
        return results;
    }

    private SegmentResult decodeOne(SegmentRequest request) {
        int[] kept;
        if (request.parentNodeId() < 0) {
            assertEquals(0, request.keepTokens(), "a root keeps nothing");
            kept = new int[0];
        } else {
            int[] parent = context(request.parentNodeId());
            assertTrue(request.keepTokens() >= 1, "keep " + request.keepTokens());
            assertTrue(request.keepTokens() <= parent.length,
                    "keep " + request.keepTokens() + " of parent context " + parent.length);
            kept = Arrays.copyOf(parent, request.keepTokens());
        }
        int[] context = concat(kept, request.appendTokens());
        int budget = request.maxNewTokens();
        int eosAt = behaviour == Behaviour.EOS_IN_FIRST_SEGMENT ? rng.nextInt(budget) : -1;
        int[] tokens = new int[budget];
        float[] logprobs = new float[budget];
        int count = 0;
        boolean eos = false;
        while (count < budget && !eos) {
            int[] soFar = concat(context, Arrays.copyOf(tokens, count));
            int token = count == eosAt ? FakeVocabulary.EOS : nextToken(soFar);
            tokens[count] = token;
            logprobs[count] = (float) (-0.01 - 5 * rng.nextDouble());
            count++;
            eos = token == FakeVocabulary.EOS;
        }
        int[] generated = Arrays.copyOf(tokens, count);
        contexts.put(request.nodeId(), concat(context, generated));
        return new SegmentResult(request.nodeId(), generated, Arrays.copyOf(logprobs, count), eos,
                FakeVocabulary.decode(generated));
    }

    private int nextToken(int[] soFar) {
        switch (behaviour) {
            case NEVER_FINISHES, EOS_IN_FIRST_SEGMENT:
                return randomLetter();
            case CHATTY:
                return rng.nextDouble() < 0.2 ? FakeVocabulary.EOS : randomLetter();
            case MIXED:
            default:
                break;
        }
        if (insideOpenBox(soFar)) {
            double draw = rng.nextDouble();
            if (draw < 0.1) {
                return FakeVocabulary.EOS;
            }
            return draw < 0.6 ? FakeVocabulary.digit(rng.nextInt(10)) : FakeVocabulary.BOX_CLOSE;
        }
        double draw = rng.nextDouble();
        if (draw < 0.02) {
            return FakeVocabulary.EOS;
        }
        if (draw < 0.04) {
            return FakeVocabulary.BOX_OPEN;
        }
        int n = soFar.length;
        if (draw < 0.45 && n >= 2 && isLetter(soFar[n - 2])) {
            return soFar[n - 2];
        }
        return randomLetter();
    }

    private int randomLetter() {
        return FakeVocabulary.FIRST_LETTER + rng.nextInt(FakeVocabulary.LETTERS);
    }

    private static boolean isLetter(int token) {
        return token >= FakeVocabulary.FIRST_LETTER && token < FakeVocabulary.SPACE;
    }

    private static boolean insideOpenBox(int[] soFar) {
        for (int i = soFar.length - 1; i >= 0; i--) {
            if (soFar[i] == FakeVocabulary.BOX_CLOSE) {
                return false;
            }
            if (soFar[i] == FakeVocabulary.BOX_OPEN) {
                return true;
            }
        }
        return false;
    }

    static int[] concat(int[] a, int[] b) {
        int[] joined = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, joined, a.length, b.length);
        return joined;
    }
}
