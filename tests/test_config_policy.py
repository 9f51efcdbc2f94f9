"""The policy in the config file: profile, fail-on, per-rule settings, added rules, exceptions; and the schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

ROOT_DOCKERFILE = "FROM python:3.12\nRUN sudo make install\n"


def lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def findings(cwd: Path, *args: str) -> list[dict[str, object]]:
    result = lint(cwd, "--format", "json", *args)
    assert result.returncode in (0, 1), result.stderr
    out: list[dict[str, object]] = json.loads(result.stdout)["findings"]
    return out


def project(tmp_path: Path, config: str, files: dict[str, str] | None = None, name: str = "secpolicy.yaml") -> Path:
    (tmp_path / name).write_text(config)
    for path, text in (files or {"Dockerfile": ROOT_DOCKERFILE, ".dockerignore": "x\n"}).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    return tmp_path


def test_profile_and_fail_on_from_the_config_and_the_command_line_wins(tmp_path: Path) -> None:
    project(tmp_path, "profile: pss-baseline\nfail-on: never\n")
    assert findings(tmp_path) == []  # no Dockerfile rule is in a PSS profile
    assert {f["rule"] for f in findings(tmp_path, "--profile", "default")} >= {"DF101", "DF104"}
    assert lint(tmp_path, "--profile", "default").returncode == 0  # fail-on: never
    assert lint(tmp_path, "--profile", "default", "--fail-on", "error").returncode == 1


def test_rules_off_severity_and_params(tmp_path: Path) -> None:
    project(tmp_path, "rules:\n  DF101: {enabled: false}\n  DF104: {severity: note, params: {tools: [doas]}}\n")
    assert findings(tmp_path) == []  # DF104 now only knows doas
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\nRUN doas make install\n")
    [found] = findings(tmp_path)
    assert (found["rule"], found["severity"]) == ("DF104", "note")
    assert lint(tmp_path).returncode == 0  # a note is below the default fail-on
    assert [f["rule"] for f in findings(tmp_path, "--select", "DF1")] == ["DF104"]  # off stays off under a prefix
    assert "DF101" in [f["rule"] for f in findings(tmp_path, "--select", "DF101")]  # named on the command line: on


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ("rules:\n  DF999: {enabled: false}\n", "secpolicy.yaml:2: rules.DF999: unknown rule"),
        ("rules:\n  DF104: {params: {tool: [x]}}\n", "secpolicy.yaml:2: rules.DF104.params.tool: unknown parameter"),
        ("rules:\n  DF104: {params: {tools: 3}}\n", "secpolicy.yaml:2: rules.DF104.params.tools: must be a list"),
        ("rules:\n  df101: {enabled: false}\n", "secpolicy.yaml:2: rules.df101: is not a rule id like DF101"),
        ("rules:\n  DF101: {}\n", "secpolicy.yaml:2: rules.DF101: must not be empty"),
        ("rules:\n  DF101: {enabled: 'no'}\n", "secpolicy.yaml:2: rules.DF101.enabled: must be true or false"),
        ("fail-on: sometimes\n", "secpolicy.yaml:1: fail-on: must be one of error, warning, note, never"),
        ("exceptions:\n  - {rules: [DF101]}\n", "secpolicy.yaml:2: exceptions[0]: reason: required"),
        (
            "exceptions:\n  - {rules: [DF101], reason: x, expires: 2026-02-30}\n",
            "exceptions[0].expires: '2026-02-30' is not a date",
        ),
        ("rule-dirs: [nowhere]\n", "secpolicy.yaml:1: rule-dirs[0]: nowhere is not a directory"),
        (
            "exceptions:\n  - {rules: [DF101, DF909], reason: x}\n",
            "secpolicy.yaml:2: exceptions[0].rules[1]: unknown rule DF909",
        ),
        ("exclude: x\n", "secpolicy.yaml:1: exclude: must be a list"),
        (
            "rules:\n  DF101: {enabled: false}\n  DF101: {enabled: true}\n",
            "secpolicy.yaml:3: rules.DF101: duplicate key: already given on line 2",
        ),
    ],
)
def test_config_errors_name_the_line_and_key_and_exit_2(tmp_path: Path, config: str, error: str) -> None:
    project(tmp_path, config)
    result = lint(tmp_path)
    assert result.returncode == 2
    assert error in result.stderr
    assert "Traceback" not in result.stderr
    check = subprocess.run(
        [sys.executable, "-m", "secpolicy", "config", "check"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 2
    assert error in check.stderr


def test_added_rules_reuse_builtin_checks(tmp_path: Path) -> None:
    rules = tmp_path / "policy"
    rules.mkdir()
    text = (ROOT / "rules" / "DF104.yaml").read_text()
    text = text.replace("id: DF104", "id: ACME001").replace("slug: privilege-tool", "slug: no-pkexec")
    text = text.replace(
        "params: {tools: [sudo, doas], switch-to-root: [su], drop-tools: [gosu, su-exec]}", "params: {tools: [pkexec]}"
    )
    assert "ACME001" in text
    assert "no-pkexec" in text
    (rules / "ACME001.yaml").write_text(text)
    project(
        tmp_path,
        "rule-dirs: [policy]\n",
        {"Dockerfile": "FROM python:3.12\nRUN pkexec make\nUSER 1\n", ".dockerignore": "x\n"},
    )
    assert [f["rule"] for f in findings(tmp_path)] == ["ACME001"]
    (rules / "DF101.yaml").write_text((ROOT / "rules" / "DF101.yaml").read_text())
    result = lint(tmp_path)
    assert result.returncode == 2
    assert "DF101 is already a rule" in result.stderr


def test_exceptions_by_path_with_a_reason_and_an_expiry(tmp_path: Path) -> None:
    files = {
        "legacy/Dockerfile": ROOT_DOCKERFILE,
        "legacy/.dockerignore": "x\n",
        "new/Dockerfile": ROOT_DOCKERFILE,
        "new/.dockerignore": "x\n",
    }
    config = (
        "exceptions:\n"
        "  - {rules: [DF101, DF104], paths: ['legacy/**'], reason: 'being replaced (TICKET-12)'}\n"
        "  - {rules: [DF104], paths: ['new/**'], reason: 'old waiver', expires: 2020-01-31}\n"
        "  - {rules: [DF203], reason: 'nothing sets it any more'}\n"
    )
    project(tmp_path, config, files)
    found = findings(tmp_path)
    legacy = [f for f in found if f["path"] == "legacy/Dockerfile"]
    assert {f["rule"] for f in legacy} == {"DF101", "DF104"}
    assert all(f["suppressed"] for f in legacy)
    assert legacy[0]["suppression"] == {"reason": "exception at secpolicy.yaml:2: being replaced (TICKET-12)"}
    assert not any(f["suppressed"] for f in found if f["path"] == "new/Dockerfile")  # expired: reported again
    problems = {(f["line"], str(f["message"])[:39]) for f in found if f["rule"] == "SP002"}
    assert problems == {
        (3, "the exception for DF104 expired on 2020"),
        (4, "the exception for DF203 matches no find"),
    }


def test_exceptions_by_object_name_and_namespace(tmp_path: Path) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s}\nspec:\n  containers:\n  - {name: c, image: nginx:1.27, securityContext: {privileged: true}}\n"
    files = {"a.yaml": pod % ("debug", "tools"), "b.yaml": pod % ("debug", "prod"), "c.yaml": pod % ("web", "tools")}
    project(
        tmp_path,
        "exceptions:\n  - {rules: [K8S002], name: debug, namespace: tools, reason: 'break-glass pod'}\n",
        files,
    )
    privileged = {f["path"]: f["suppressed"] for f in findings(tmp_path) if f["rule"] == "K8S002"}
    assert privileged == {"a.yaml": True, "b.yaml": False, "c.yaml": False}


def test_pyproject_tool_table_is_found_and_checked(tmp_path: Path) -> None:
    project(
        tmp_path,
        '[project]\nname = "x"\n\n[tool.secpolicy]\nfail-on = "never"\n\n[tool.secpolicy.rules.DF104]\nenabled = false\n',
        name="pyproject.toml",
    )
    assert [f["rule"] for f in findings(tmp_path)] == ["DF101"]
    assert lint(tmp_path).returncode == 0
    (tmp_path / "pyproject.toml").write_text('[tool.secpolicy]\nfail-on = "x"\nprofil = "default"\n')
    result = lint(tmp_path)
    assert result.returncode == 2
    assert (
        "pyproject.toml:2: fail-on: must be one of" in result.stderr
        or "pyproject.toml:3: profil: unknown key" in result.stderr
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')  # no [tool.secpolicy]: not a config
    assert {f["rule"] for f in findings(tmp_path)} == {"DF101", "DF104"}


def test_schema_is_printed_and_is_a_valid_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "config", "schema"], capture_output=True, text=True, check=True
    )
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert {"profile", "fail-on", "rules", "exceptions", "images", "rule-dirs", "run"} <= set(schema["properties"])


def test_each_file_takes_its_nearest_config_and_config_overrides(tmp_path: Path) -> None:
    files = {
        "Dockerfile": ROOT_DOCKERFILE,
        ".dockerignore": "x\n",
        "svc/Dockerfile": ROOT_DOCKERFILE,
        "svc/.dockerignore": "x\n",
        "svc/secpolicy.yaml": "rules:\n  DF101: {severity: note}\n",
        "tools/sub/Dockerfile": ROOT_DOCKERFILE,
        "tools/sub/.dockerignore": "x\n",
        "tools/.secpolicy.yaml": "profile: pss-restricted\n",
    }
    project(tmp_path, "rules:\n  DF104: {enabled: false}\n", files)
    found = {(f["path"], f["rule"], f["severity"]) for f in findings(tmp_path)}
    assert found == {
        ("Dockerfile", "DF101", "error"),  # the root config: DF104 off
        ("svc/Dockerfile", "DF101", "note"),  # svc's own config (nearest wins, not merged)
        ("svc/Dockerfile", "DF104", "warning"),
    }  # tools/ judges pod rules only
    forced = {(f["path"], f["rule"]) for f in findings(tmp_path, "--config", "tools/.secpolicy.yaml")}
    assert forced == set()
