"""BuildKit's own parser test files: every case must parse to its ``result``."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED, shared_dir
from gostring import go_quote

from secpolicy.dockerfile.instructions import load
from secpolicy.dockerfile.syntax import DockerfileSyntaxError, Node, parse
from secpolicy.engine import Engine, LintOptions

BASE = SHARED / "conformance" / "buildkit-parser"


def _dirs(name: str) -> list[Path]:
    folder = BASE / name
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def dump(node: Node) -> str:
    """The S-expression BuildKit's test files use for one instruction."""
    text = node.cmd
    if node.flags:
        text += " [" + " ".join(go_quote(f) for f in node.flags) + "]"
    if node.child is not None:
        text += " (" + dump(node.child) + ")"
    for arg in node.args:
        text += " " + go_quote(arg)
    return text


def test_corpus_is_complete() -> None:
    shared_dir("conformance", "buildkit-parser")
    assert len(_dirs("testfiles")) >= 33
    assert len(_dirs("testfiles-negative")) >= 4


@pytest.mark.parametrize("case", _dirs("testfiles"), ids=lambda p: p.name)
def test_parses_to_result(case: Path) -> None:
    text = (case / "Dockerfile").read_bytes().decode("utf-8")
    expected = (case / "result").read_text(encoding="utf-8").splitlines()
    got = ["(" + dump(node) + ")" for node in parse(text).nodes]
    assert got == expected


@pytest.mark.parametrize("case", _dirs("testfiles-negative"), ids=lambda p: p.name)
def test_negative_cases_are_parse_errors(case: Path, rules) -> None:
    text = (case / "Dockerfile").read_bytes().decode("utf-8")
    with pytest.raises(DockerfileSyntaxError) as info:
        load(text, "Dockerfile")
    assert info.value.line >= 1
    assert info.value.message
    # and the linter reports it as SP001 rather than crashing or guessing
    findings = Engine(rules, LintOptions()).lint_text(text, "Dockerfile").findings
    assert [(f.rule, f.line) for f in findings] == [("SP001", info.value.line)]
