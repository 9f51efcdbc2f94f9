"""The library interface gives what the command line prints."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from secpolicy import api


def test_lint_returns_a_report(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine\nARG UID=1000\nUSER $UID\n")
    report = api.lint([tmp_path], api.Settings(build_args={"UID": "0"}))
    assert [(f.rule, f.line) for f in report.findings] == [("DF101", 3)]
    assert report.summary == {"files": 1, "findings": 1, "suppressed": 0}
    assert "DF101" in {r.id for r in report.rules}
    assert api.lint([tmp_path]).findings == []


def test_lint_reads_stdin_when_asked(tmp_path: Path) -> None:
    report = api.lint(["-"], api.Settings(stdin_filename="svc/Dockerfile"), stdin=io.BytesIO(b"FROM scratch\n"))
    assert [(f.path, f.rule) for f in report.findings] == [("svc/Dockerfile", "DF101")]


def test_resolve_runs_no_rule(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM alpine AS b\nUSER 7\nFROM b\nRUN sudo x\n")
    found = api.resolve([tmp_path], all_stages=True)
    assert [(c.target, c.user.uid) for c in found.contexts] == [("stage b", 7), ("stage 1", 7)]
    assert found.failures == []
    assert found.errors == []


def test_usage_errors_are_exceptions(tmp_path: Path) -> None:
    with pytest.raises(api.UsageError, match="unknown rule"):
        api.lint([tmp_path], api.Settings(select=["XX999"]))
    bad = tmp_path / "secpolicy.yaml"
    bad.write_text("images: [x]\n")
    with pytest.raises(api.UsageError, match="must be a mapping"):
        api.lint([tmp_path], api.Settings(config=bad))
