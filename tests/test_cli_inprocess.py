"""The commands run in this process (typer's test runner): output and exit codes of the newer commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from secpolicy.cli import app

RUNNER = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN sudo make\n")
    (tmp_path / ".dockerignore").write_text("x\n")
    return tmp_path


@pytest.mark.parametrize("fmt", ["sarif", "github", "gitlab", "junit", "json", "text"])
def test_lint_formats(project: Path, fmt: str) -> None:
    code, out, _ = invoke("lint", ".", "-f", fmt, "--sarif-category", "ci/x")
    assert code == 1
    assert "DF101" in out
    if fmt == "sarif":
        assert json.loads(out)["runs"][0]["automationDetails"]["id"] == "ci/x/"


def test_config_commands(project: Path) -> None:
    code, out, _ = invoke("config", "schema")
    assert code == 0
    assert json.loads(out)["title"].startswith("secpolicy configuration")
    code, _, err = invoke("config", "check")
    assert code == 2
    assert "no secpolicy.yaml" in err
    (project / "secpolicy.yaml").write_text("fail-on: warning\nrules:\n  DF104: {severity: note}\n")
    code, out, _ = invoke("config", "check")
    assert code == 0
    assert "valid (45 rules" in out
    code, _, _ = invoke("lint", ".", "--select", "DF104")
    assert code == 0  # a note, below the config's fail-on warning
    (project / "secpolicy.yaml").write_text("rules:\n  XX999: {enabled: false}\n")
    code, _, err = invoke("config", "check", str(project / "secpolicy.yaml"))
    assert code == 2
    assert "rules.XX999: unknown rule" in err


def test_image_inspect_text_and_json(project: Path) -> None:
    code, out, _ = invoke("image", "inspect", "memcached:1.6")
    assert code == 0
    assert "user     memcache, uid 11211" in out
    code, out, _ = invoke("image", "inspect", "mcr.microsoft.com/dotnet/aspnet:8.0", "-f", "json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["user"]["uid"], doc["env"]) == (0, {"APP_UID": "1654"})
    code, _, err = invoke("image", "inspect", "Not/Valid")
    assert code == 2
    assert "must be lowercase" in err
    code, out, _ = invoke("image", "inspect", "ghcr.io/acme/x:1")
    assert code == 1
    assert "(no source knows it)" in out


def test_context_ls_formats(project: Path) -> None:
    code, out, _ = invoke("context", "ls", ".", "--explain")
    assert code == 0
    assert "files," in out.splitlines()[-1]
    code, out, _ = invoke("context", "ls", ".", "--format", "json")
    assert json.loads(out)["summary"]["files"] == 2


def test_pyproject_lines_point_at_the_key(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.secpolicy]\nprofile = "default"\n\n[tool.secpolicy.rules.DF101]\nseverity = "loud"\n'
    )
    code, _, err = invoke("lint", ".")
    assert code == 2
    assert "pyproject.toml:8: rules.DF101.severity: must be one of error, warning, note" in err
