package dev.treepo.task;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BoxedAnswerTest {

    static Stream<Arguments> responses() {
        return Stream.of(
                Arguments.of("23+45=68. \\boxed{68}", "68"),
                Arguments.of("so \\boxed{\\frac{1}{2}} is it", "\\frac{1}{2}"),
                Arguments.of("\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt{3}}{2}"),
                Arguments.of("first \\boxed{1}, then \\boxed{2}", "2"),
                // an unclosed last box falls back to the previous complete one
                Arguments.of("\\boxed{7} and then \\boxed{8", "7"),
                Arguments.of("\\boxed{7} and then \\boxed{\\frac{1}{2}", "7"),
                // a box nested in another box opens last, so it wins
                Arguments.of("\\boxed{\\boxed{3}}", "3"),
                // escaped braces are literal text
                Arguments.of("\\boxed{\\{1,2\\}}", "\\{1,2\\}"),
                Arguments.of("\\boxed{\\}}", "\\}"),
                // a stray closing brace before the box is ignored
                Arguments.of("} x \\boxed{5}", "5"),
                // a stray opening brace before the box does not hide it
                Arguments.of("{ x \\boxed{5}", "5"),
                Arguments.of("\\boxed{ 42 }", " 42 "),
                Arguments.of("\\boxed{}", ""),
                Arguments.of("\u00e9t\u00e9 \\boxed{\u221a2}", "\u221a2"));
    }

    @ParameterizedTest
    @MethodSource("responses")
    void extractLastReturnsLastCompleteBox(String response, String expected) {
        assertEquals(Optional.of(expected), BoxedAnswer.extractLast(response));
    }

    @ParameterizedTest
    @MethodSource("noCompleteBox")
    void extractLastWithoutCompleteBoxIsEmpty(String response) {
        assertEquals(Optional.empty(), BoxedAnswer.extractLast(response));
    }

    static Stream<String> noCompleteBox() {
        return Stream.of(
                "",
                "the answer is 5",
                "\\boxed{5",
                "\\boxed{\\frac{1}{2}",
                "\\boxed 5",
                "\\boxed{5\\}",
                "boxed{5}",
                // a LaTeX line break followed by text is not a box
                "\\\\boxed{5}");
    }

    @Test
    void wrapRoundTripsThroughExtract() {
        String boxed = BoxedAnswer.wrap("-\\frac{3}{4}");

        assertEquals("\\boxed{-\\frac{3}{4}}", boxed);
        assertEquals(Optional.of("-\\frac{3}{4}"), BoxedAnswer.extractLast(boxed));
    }
}
