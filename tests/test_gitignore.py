""".gitignore matching: git's semantics, checked against pathspec's GitIgnoreSpec, in linear time."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import pathspec
import pytest

from secpolicy.discover import discover
from secpolicy.gitignore import IgnoreFile


def ours(lines: list[str], path: str, is_dir: bool) -> bool:
    """As the walk decides: a directory that is ignored hides everything below it."""
    spec = IgnoreFile(lines)
    parts = tuple(path.split("/"))
    if any(spec.verdict(parts[:i], True) for i in range(1, len(parts))):
        return True
    return spec.verdict(parts, is_dir) is True


def reference(lines: list[str], path: str, is_dir: bool) -> bool:
    return pathspec.GitIgnoreSpec.from_lines(lines).match_file(path + ("/" if is_dir else ""))


@pytest.mark.parametrize(
    ("lines", "path", "is_dir", "want"),
    [
        (["*.log"], "a/b/x.log", False, True),
        (["/x.log"], "a/x.log", False, False),
        (["build/"], "build", False, False),
        (["build/"], "src/build", True, True),
        (["a/*.txt"], "a/b.txt", False, True),
        (["a/*.txt"], "a/c/b.txt", False, False),
        (["**/foo"], "x/y/foo", False, True),
        (["foo/**"], "foo", True, False),
        (["foo/**"], "foo/a/b", False, True),
        (["a/**/b"], "a/b", False, True),
        (["a/**/b"], "a/x/y/b", False, True),
        (["*.txt", "!keep.txt"], "keep.txt", False, False),
        (["\\#not-comment"], "#not-comment", False, True),
        (["\\!bang"], "!bang", False, True),
        (["trailing\\ "], "trailing ", False, True),
        (["trailing  "], "trailing", False, True),
        (["[a-c]x"], "bx", False, True),
        (["[!a-c]x"], "bx", False, False),
        (["[[:digit:]]*"], "7up", False, True),
        (["x?z"], "x/z", False, False),
        (["[abc"], "[abc", False, False),
        (["a//"], "a", True, False),
        (["a/"], "x/a", True, True),
    ],
)
def test_gitignore_semantics(lines: list[str], path: str, is_dir: bool, want: bool) -> None:
    assert ours(lines, path, is_dir) == want
    if lines not in PATHSPEC_DIFFERS:
        assert reference(lines, path, is_dir) == want


# Where pathspec is not git: "foo/**" does not match foo itself (so "!foo/x" can re-include),
# wildmatch knows [:digit:], and an unclosed bracket makes wildmatch abort (no match).
PATHSPEC_DIFFERS = [["foo/**"], ["[[:digit:]]*"], ["[abc"]]


@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_pathspec_on_random_patterns(seed: int) -> None:
    rng = random.Random(seed)
    # no negated brackets: pathspec lets [!a] match "/", wildmatch never does
    pieces = ["a", "b", "*", "?", "/", "**", "[ab]", "!", "c"]
    names = ["a", "b", "ab", "ba", "c", "abc", "aa"]
    for _ in range(1500):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 5)))
        path = "/".join(rng.choice(names) for _ in range(rng.randint(1, 4)))
        is_dir = rng.random() < 0.3
        lines = [pattern]
        try:
            pathspec.GitIgnoreSpec.from_lines(lines)
        except ValueError:
            continue  # a pattern pathspec refuses ("!" alone): git ignores such a line too
        assert ours(lines, path, is_dir) == reference(lines, path, is_dir), (pattern, path, is_dir)


def test_crafted_patterns_stay_linear(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*a" * 40 + "b\n" + "**/" * 200 + "x\n")
    (tmp_path / ("a" * 250)).mkdir()
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    started = time.perf_counter()
    assert [f.path.name for f in discover([tmp_path])] == ["Dockerfile"]
    assert time.perf_counter() - started < 5  # a backtracking regex takes hours here


@pytest.mark.slow
def test_deep_tree_does_not_recurse() -> None:
    # outside pytest's tmp_path, whose clean-up of old runs recurses once per level
    root = Path(tempfile.mkdtemp(prefix="secpolicy-deep-"))
    levels = [root]
    for _ in range(1100):  # deeper than Python's recursion limit, shorter than PATH_MAX
        levels.append(levels[-1] / "d")
        levels[-1].mkdir()
    deepest = levels[-1] / "Dockerfile"
    deepest.write_text("FROM alpine\n")
    try:
        assert [f.path for f in discover([root])] == [deepest]
    finally:
        deepest.unlink()
        for level in reversed(levels):
            level.rmdir()
