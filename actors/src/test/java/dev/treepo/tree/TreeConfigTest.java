package dev.treepo.tree;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.treepo.tree.TreeConfig.Allocation;
import dev.treepo.tree.TreeConfig.FallbackCut;
import dev.treepo.tree.TreeConfig.FallbackSource;
import dev.treepo.tree.TreeConfig.Mode;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TreeConfigTest {

    /** Returns the defaults of conf/treepo.conf. */
    static TreeConfig defaults() {
        return new TreeConfig(Mode.TREE, 8, 8, 6, 2, 2, Allocation.EVEN, 1.0, 0, FallbackSource.CLEAN_FIRST,
                FallbackCut.RANDOM_BLOCK, 0, 32, 8);
    }

    /** Returns the field values in constructor order. */
    private static Object[] fields(TreeConfig c) {
        return new Object[] {c.mode(), c.width(), c.segmentTokens(), c.maxDepth(), c.rootDivergence(), c.branchFactor(),
            c.allocation(), c.allocationTemperature(), c.maxResponseTokens(), c.fallbackSource(), c.fallbackCut(),
            c.fallbackBlockTokens(), c.repetitionWindowChars(), c.repetitionMinCount()};
    }

    private static TreeConfig with(int field, Object value) {
        Object[] f = fields(defaults());
        f[field] = value;
        return new TreeConfig((Mode) f[0], (int) f[1], (int) f[2], (int) f[3], (int) f[4], (int) f[5],
                (Allocation) f[6], (double) f[7], (int) f[8], (FallbackSource) f[9], (FallbackCut) f[10],
                (int) f[11], (int) f[12], (int) f[13]);
    }

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of(0, null, "rollout.mode"),
                Arguments.of(1, 0, "rollout.width"),
                Arguments.of(2, 0, "rollout.segment-tokens"),
                Arguments.of(3, 0, "rollout.max-depth"),
                Arguments.of(3, Integer.MAX_VALUE, "rollout.max-depth"),
                Arguments.of(4, 0, "rollout.root-divergence"),
                Arguments.of(4, 9, "rollout.root-divergence"),
                Arguments.of(5, 0, "rollout.branch-factor"),
                Arguments.of(6, null, "rollout.allocation"),
                Arguments.of(7, 0.0, "rollout.allocation-temperature"),
                Arguments.of(7, Double.NaN, "rollout.allocation-temperature"),
                Arguments.of(7, Double.POSITIVE_INFINITY, "rollout.allocation-temperature"),
                Arguments.of(8, -1, "rollout.max-response-tokens"),
                Arguments.of(9, null, "rollout.fallback.source"),
                Arguments.of(10, null, "rollout.fallback.cut"),
                Arguments.of(11, -1, "rollout.fallback.block-tokens"),
                Arguments.of(12, 0, "rollout.repetition.window-chars"),
                Arguments.of(13, 1, "rollout.repetition.min-count"));
    }

    @ParameterizedTest(name = "{2} = {1}")
    @MethodSource("invalidValues")
    void invalidValueNamesItsKey(int field, Object value, String key) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> with(field, value));
        assertTrue(error.getMessage().contains(key), error.getMessage());
    }

    @Test
    void rootDivergenceMayEqualWidth() {
        assertEquals(8, with(4, 8).rootDivergence());
    }

    @Test
    void zeroMeansDerivedDefaults() {
        TreeConfig config = defaults();
        assertEquals(48, config.effectiveMaxResponseTokens());
        assertEquals(8, config.effectiveFallbackBlockTokens());
        assertEquals(30, with(8, 30).effectiveMaxResponseTokens());
        assertEquals(5, with(11, 5).effectiveFallbackBlockTokens());
    }

    @Test
    void independentCopyKeepsOtherSettings() {
        TreeConfig independent = defaults().independent(4);
        assertEquals(Mode.INDEPENDENT, independent.mode());
        assertEquals(4, independent.width());
        assertEquals(4, independent.initialPaths());
        assertEquals(defaults().segmentTokens(), independent.segmentTokens());
        assertEquals(defaults().maxDepth(), independent.maxDepth());
        assertEquals(2, defaults().initialPaths());
    }

    @Test
    void parseOptionAcceptsConfigSpelling() {
        assertEquals(Allocation.INVERSE_LOGPROB, TreeConfig.parseOption(Allocation.class, "rollout.allocation",
                "inverse-logprob"));
        assertEquals(FallbackSource.CLEAN_FIRST, TreeConfig.parseOption(FallbackSource.class,
                "rollout.fallback.source", " Clean-First "));
        assertEquals(Mode.INDEPENDENT, TreeConfig.parseOption(Mode.class, "rollout.mode", "independent"));
    }

    @Test
    void parseOptionListsAcceptedValues() {
        UnaryOperator<String> parse = value -> TreeConfig.parseOption(FallbackCut.class, "rollout.fallback.cut", value)
                .name();
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> parse.apply("block"));
        assertTrue(error.getMessage().contains("rollout.fallback.cut"), error.getMessage());
        assertTrue(error.getMessage().contains("random-block, min-logprob, from-start"), error.getMessage());
    }
}
