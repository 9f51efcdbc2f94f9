"""Variable expansion with BuildKit's lexer rules, plus what stays unknown."""

from __future__ import annotations

import pytest

from secpolicy.dockerfile.lexer import Lexer, LexError

SCOPE = {"A": "a", "EMPTY": "", "UNSET": None, "SP": "x y"}


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("$A", "a"),
        ("${A}", "a"),
        ("pre${A}post", "preapost"),
        ("${A:-d}", "a"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${A:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("'$A'", "$A"),
        ('"$A"', "a"),
        ('"\\$A"', "$A"),
        ("\\$A", "$A"),
        ("$", "$"),
        ("$1x", "x"),
        ("${A:-${EMPTY:-z}}", "a"),
        ("${EMPTY:-${A}}", "a"),
        ("'a b'", "a b"),
    ],
)
def test_expand(word: str, value: str) -> None:
    exp = Lexer().expand(word, SCOPE)
    assert exp.value == value
    assert exp.resolved


def test_words_split_after_expansion() -> None:
    assert Lexer().expand("$SP z", SCOPE).words == ["x", "y", "z"]
    assert Lexer().expand('"$SP" z', SCOPE).words == ["x y", "z"]


def test_unknown_and_unset_are_recorded() -> None:
    exp = Lexer().expand("${NOPE:-0}", SCOPE)
    assert exp.value == "0"
    assert exp.unknown == {"NOPE"}
    assert not exp.resolved
    exp = Lexer().expand("$UNSET", SCOPE)
    assert exp.value == ""
    assert exp.unset == {"UNSET"}
    assert exp.resolved


def test_backtick_escape() -> None:
    assert Lexer("`").expand("a`$b", {}).value == "a$b"


@pytest.mark.parametrize("word", ["${", "${}", "${:x}", "'open", '"open', "${A:=x}", "${A"])
def test_errors(word: str) -> None:
    with pytest.raises(LexError):
        Lexer().expand(word, SCOPE)


def test_pattern_operators() -> None:
    scope = {"V": "release-1.2.3"}
    assert Lexer().expand("${V#*-}", scope).value == "1.2.3"
    assert Lexer().expand("${V%.*}", scope).value == "release-1.2"
    assert Lexer().expand("${V%%.*}", scope).value == "release-1"
    assert Lexer().expand("${V/./_}", scope).value == "release-1_2.3"
    assert Lexer().expand("${V//./_}", scope).value == "release-1_2_3"
