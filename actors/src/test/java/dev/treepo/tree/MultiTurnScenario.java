package dev.treepo.tree;

import java.util.Optional;

/**
 * Example multi-turn scenario: the worker ends an assistant turn with EOS; the scenario appends a
 * fixed user message after every turn and ends the path with EOS after {@code turns} turns. The
 * tree's limits end longer dialogues as MAX_TOKENS or MAX_DEPTH.
 */
final class MultiTurnScenario implements Scenario {

    static final int[] USER_TURN = FakeVocabulary.encode(" try again ");

    private final int turns;

    MultiTurnScenario(int turns) {
        this.turns = turns;
    }

    @Override
    public Optional<FinishReason> finish(PathView path, Segment segment) {
        if (!segment.endedWithEos()) {
            return Optional.empty();
        }
        return turnsDone(path) >= turns ? Optional.of(FinishReason.EOS) : Optional.empty();
    }

    @Override
    public int[] appendBeforeNextSegment(PathView path) {
        int[] response = path.responseTokens();
        boolean turnEnded = response.length > 0 && response[response.length - 1] == FakeVocabulary.EOS;
        return turnEnded ? USER_TURN.clone() : new int[0];
    }

    /** Counts finished assistant turns: EOS tokens the model generated. */
    static int turnsDone(PathView path) {
        int[] response = path.responseTokens();
        float[] mask = path.lossMask();
        int done = 0;
        for (int i = 0; i < response.length; i++) {
            if (response[i] == FakeVocabulary.EOS && mask[i] != 0) {
                done++;
            }
        }
        return done;
    }
}
