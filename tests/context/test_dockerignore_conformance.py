"""moby/patternmatcher's own vectors and walk vectors confirmed against the Go implementation, all of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_dir

from secpolicy.context.ignore import IgnoreError, MatchInfo, PatternMatcher, go_clean, read_lines
from secpolicy.context.walk import walk


def _vectors(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((shared_dir("conformance", "dockerignore") / name).read_text())
    return data


def test_every_patternmatcher_vector() -> None:
    vectors = _vectors("patternmatcher-vectors.json")
    wrong = []
    for vector in vectors:
        group = re.sub(r"[0-9]+$", "", vector["id"])
        path = vector["path"]
        try:
            matcher = PatternMatcher(vector["patterns"])
            if group in ("B", "F"):  # the deprecated Matches() these upstream tests call
                cleaned = go_clean(path)
                excluded = False if cleaned == "." else matcher.matches(cleaned)
            else:  # TestMatches: every mode agrees, the walker's chained over the ancestors
                excluded, _ = matcher.matches_or_parent_matches(path)
                info, parts = MatchInfo(), path.split("/")
                for depth in range(1, len(parts) + 1):
                    walked, info, _ = matcher.matches_using_parent_results("/".join(parts[:depth]), info)
                if walked != excluded:
                    wrong.append(f"{vector['id']}: the modes disagree")
            got = "excluded" if excluded else "included"
        except IgnoreError:
            got = "error"
        if got != vector["expect"]:
            wrong.append(f"{vector['id']} {vector['patterns']} {path!r}: expected {vector['expect']}, got {got}")
    assert not wrong, "\n".join(wrong)
    assert len(vectors) == 137


def _sent(root: Path, lines: list[str]) -> tuple[list[str], list[str]]:
    matcher = PatternMatcher(read_lines("\n".join(lines) + "\n"))
    entries = walk(root, matcher).entries()
    return sorted(e.path for e in entries), sorted(e.path for e in entries if e.content_withheld)


def test_every_walk_vector(tmp_path: Path) -> None:
    vectors = _vectors("walk-vectors.json")
    wrong = []
    for index, vector in enumerate(vectors):
        root = tmp_path / str(index)
        for name in vector["tree"]:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text("x")
        root.mkdir(exist_ok=True)
        try:
            sent, withheld = _sent(root, vector["dockerignore"])
        except IgnoreError:
            if not vector.get("error"):
                wrong.append(f"{vector['id']}: unexpected error")
            continue
        if vector.get("error"):
            wrong.append(f"{vector['id']}: the build fails, but secpolicy sent {sent}")
            continue
        if sent != sorted(vector["sent"]):
            wrong.append(f"{vector['id']}: sent {sent}, expected {sorted(vector['sent'])}")
        if withheld != sorted(vector.get("content_withheld", [])):
            wrong.append(f"{vector['id']}: content withheld {withheld}, expected {vector['content_withheld']}")
    assert not wrong, "\n".join(wrong)
    assert len(vectors) == 62


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! \n",
            ["test1", "test2", "a/file/here", "lastfile", "!inverted/abs/path", "!", "!"],
        ),
        ("\ufeff# bom then comment\n  # not a comment\n//secrets\nfoo/../x/\n", ["# not a comment", "secrets", "x"]),
        ("a\r\nb\r\n", ["a", "b"]),
    ],
)
def test_read_all(text: str, expected: list[str]) -> None:
    assert [line.text for line in read_lines(text)] == expected


def test_long_line_fails_the_build() -> None:
    with pytest.raises(IgnoreError, match="64 KiB"):
        read_lines("a" * (64 * 1024 + 1) + "\n")


def test_wildcard_heavy_patterns_are_linear_and_agree_with_the_regexp() -> None:
    import random
    import time

    from secpolicy.context.ignore import Pattern, _compile, _nfa_match, _tokens

    rng = random.Random(7)
    pieces = ["a", "b", "*", "**", "?", "/", ".", "**/", "[ab]", "[^a]", "[[:alpha:]]", "\\_", "[]a]"]
    compared = 0
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))).strip("/") or "a"
        kind, go = _compile(text)
        tokens = _tokens(go) if kind == "regexp" else None
        if tokens is None:
            continue
        regex = Pattern(text, False).regex
        assert regex is not None
        for _ in range(4):
            path = "".join(rng.choice(["a", "b", "/", ".", "ab", "_", "]", "\n"]) for _ in range(rng.randint(0, 8)))
            assert _nfa_match(tokens, path) == (regex.match(path) is not None), (text, path)
            compared += 1
    assert compared > 5000
    for text in (
        "*a" * 40 + "*b",
        "/".join(["**"] * 300) + "/x",
        "a" + "*" * 5000 + "b",
        "*\\_" * 40 + "*X",
        "*[ab]" * 40 + "*X",
    ):
        start = time.perf_counter()
        assert not Pattern(text, False).match("a" * 300)
        assert time.perf_counter() - start < 0.5, text


def test_too_many_patterns_is_not_judged() -> None:
    with pytest.raises(IgnoreError, match="at most") as raised:
        PatternMatcher([f"p{i}" for i in range(10_001)])
    assert raised.value.build_fails is False
