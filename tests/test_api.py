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


def test_stdin_manifest_detection() -> None:
    from secpolicy.api import _looks_like_manifest

    for text in ("%YAML 1.1\n---\nkind: Pod\n", "spec:\n  x: 1\n", "# c\n- a\n", '"apiVersion": "v1"\n', "kind: Pod\n"):
        assert _looks_like_manifest("<stdin>", text), text
    for text in ("FROM alpine:3.20\n", "# syntax=docker/dockerfile:1\nARG X=1\nFROM x\n", "from x:y AS b\n"):
        assert not _looks_like_manifest("<stdin>", text), text
    assert _looks_like_manifest("k8s/app.yaml", "FROM x\n")
    assert not _looks_like_manifest("Dockerfile", "kind: Pod\n")


def test_utf16_is_named() -> None:
    import pytest

    from secpolicy import sources

    with pytest.raises(sources.SourceError, match="UTF-16"):
        sources.decode("kind: Pod\n".encode("utf-16"))
