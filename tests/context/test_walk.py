"""The walk's shortcuts (pruning, unmatched subtrees walked without patterns, key order) change nothing it sends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from secpolicy.context.ignore import IgnoreError, MatchInfo, PatternMatcher
from secpolicy.context.walk import _prefix_only, walk

NAMES = ["a", "b", "a.txt", "a-b", "x.pem", "keep", "ab", "c c"]
PATTERNS = [
    "a",
    "a/b",
    "b/*",
    "*.txt",
    "**/*.pem",
    "**.pem",
    "a*",
    "?",
    "[ab]",
    "[^a]*",
    "*/keep",
    "**",
    "a/**",
    "!a/keep",
    "!**/keep",
    "!b",
    "!*/*.txt",
    "![ab]/a*",
    "!a/b/**",
]

trees = st.recursive(
    st.just(""),
    lambda children: st.dictionaries(st.sampled_from(NAMES), children, min_size=1, max_size=4),
    max_leaves=25,
)


def _make(root: Path, node: dict[str, object] | str) -> None:
    assert isinstance(node, dict)
    for name, child in node.items():
        if isinstance(child, dict):
            (root / name).mkdir()
            _make(root / name, child)
        else:
            (root / name).write_text("x")


def _reference(root: Path, matcher: PatternMatcher | None) -> list[str]:
    """Every entry decided with its parent's bits, nothing pruned, sorted at the end."""
    sent: list[str] = []

    def visit(path: Path, rel: str, info: MatchInfo) -> None:
        for entry in os.scandir(path):
            child = f"{rel}/{entry.name}" if rel else entry.name
            if matcher is None:
                excluded, child_info = False, MatchInfo()
            else:
                excluded, child_info, _ = matcher.matches_using_parent_results(child, info)
            if entry.is_dir(follow_symlinks=False):
                visit(Path(entry.path), child, child_info)
            elif not excluded:
                sent.append(child)

    visit(root, "", MatchInfo())
    return sorted(sent)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees, patterns=st.lists(st.sampled_from(PATTERNS), max_size=5))
@example(tree={"a": {"b": "", "keep": ""}}, patterns=["a/b"])  # an exact pattern below an unmatched directory
@example(tree={"b": {"a": {"x.pem": ""}}}, patterns=["b/*", "!*/*.txt"])  # a glob exception, a matched directory
@example(tree={"a": {"a.txt": "", "b": {"keep": ""}}}, patterns=["a/**", "!**/keep"])  # a prefix pattern
@example(tree={"a": {"b": {"c c": ""}}}, patterns=["[ab]/a*"])  # a class: assumed to reach anywhere
def test_walk_sends_what_deciding_every_entry_sends(tmp_path_factory, tree, patterns) -> None:
    root = tmp_path_factory.mktemp("ctx")
    if isinstance(tree, dict):
        _make(root, tree)
    matcher = PatternMatcher(patterns) if patterns else None
    if matcher is not None and _prefix_only(matcher) not in (None, []):
        return  # prefix-only exceptions: fsutil's own pruning rule decides (the walk vectors cover it)
    walked = walk(root, matcher, sizes=False)
    paths = walked.paths
    assert paths == sorted(paths)  # key order is plain string order, with no sort at the end
    assert paths == _reference(root, matcher)
    assert walked.problems == []


def test_directory_order_is_string_order(tmp_path: Path) -> None:
    for name in ("a/b", "a.txt", "a-b/c", "a0"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    for matcher in (None, PatternMatcher(["zzz"]), PatternMatcher(["zzz", "!a/b"])):
        assert walk(tmp_path, matcher).paths == ["a-b/c", "a.txt", "a/b", "a0"]


def test_sizes_are_measured_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("12345")
    assert [e.size for e in walk(tmp_path, None).entries()] == [5]
    assert [e.size for e in walk(tmp_path, None, sizes=False).entries()] == [0]
    assert [e.size for e in walk(tmp_path, PatternMatcher(["g"])).entries()] == [5]


def test_a_file_removed_during_the_walk_is_reported_and_the_walk_goes_on(tmp_path: Path, monkeypatch) -> None:
    for name in ("a", "gone", "z"):
        (tmp_path / name).write_text("x")
    real = os.lstat

    def lstat(path, *args, **kwargs):  # removed between the directory read and the size
        if str(path).endswith("/gone"):
            raise FileNotFoundError(2, "No such file or directory")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    for matcher in (None, PatternMatcher(["nothing"])):
        walked = walk(tmp_path, matcher)
        assert walked.paths == ["a", "z"]
        assert [(p.path, p.message) for p in walked.problems] == [("gone", "cannot stat: No such file or directory")]


def test_a_directory_removed_during_the_walk(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("")
    (tmp_path / "e").write_text("")
    real = os.scandir

    def scandir(path):
        if str(path).endswith("/d"):
            raise FileNotFoundError(2, "No such file or directory")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    walked = walk(tmp_path, None, sizes=False)
    assert walked.paths == ["e"]
    assert [p.path for p in walked.problems] == ["d"]


def test_hostile_patterns(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b.txt").write_text("")
    deep = "**/" * 2000 + "*.txt"
    assert walk(tmp_path, PatternMatcher([deep])).paths == []  # ** runs match nothing or directories: linear
    with pytest.raises(IgnoreError, match='illegal exclusion pattern: "!"'):
        PatternMatcher(["!"])
    with pytest.raises(IgnoreError, match="syntax error"):
        PatternMatcher(["["])
