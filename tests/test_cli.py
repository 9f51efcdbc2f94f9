"""The command line as a user runs it: exit codes, formats, stdin, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, is_root

from secpolicy import sources
from secpolicy.cli import main


def run(
    args: list[str], cwd: Path, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "secpolicy", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def lint_json(args: list[str], cwd: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    monkey = os.getcwd()
    os.chdir(cwd)
    try:
        code = main(["lint", "--format", "json", *args])
    finally:
        os.chdir(monkey)
    return code, json.loads(capsys.readouterr().out)


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine:3.20\nUSER 10001\n")
    assert lint_json([], tmp_path, capsys)[0] == 0
    write(tmp_path / "svc" / "Dockerfile", "FROM alpine:3.20\nUSER root\n")
    code, doc = lint_json([], tmp_path, capsys)
    assert code == 1
    assert [(f["rule"], f["path"], f["line"], f["column"]) for f in doc["findings"]] == [
        ("DF101", "svc/Dockerfile", 2, 1)
    ]
    assert doc["summary"] == {"files": 2, "findings": 1, "suppressed": 0}
    assert doc["tool"] == "secpolicy"
    assert doc["errors"] == []
    assert doc["findings"][0]["target"] == "stage 0"
    assert doc["findings"][0]["severity"] == "error"


def test_fail_on_threshold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine:3.20\nUSER app\n")  # DF102 is a warning
    assert lint_json([], tmp_path, capsys)[0] == 0
    assert lint_json(["--fail-on", "warning"], tmp_path, capsys)[0] == 1
    assert lint_json(["--fail-on", "never"], tmp_path, capsys)[0] == 0


def test_select_and_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine:3.20\nUSER app:0\nRUN sudo true\n")
    _, doc = lint_json([], tmp_path, capsys)
    assert sorted(f["rule"] for f in doc["findings"]) == ["DF102", "DF103", "DF104"]
    _, doc = lint_json(["--select", "DF102,DF104"], tmp_path, capsys)
    assert sorted(f["rule"] for f in doc["findings"]) == ["DF102", "DF104"]
    _, doc = lint_json(["--ignore", "DF10"], tmp_path, capsys)
    assert doc["findings"] == []


def test_unknown_rule_in_select_is_usage_error(tmp_path: Path) -> None:
    result = run(["lint", "--select", "XX999"], tmp_path)
    assert result.returncode == 2
    assert "unknown rule" in result.stderr


def test_target_and_build_arg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(
        tmp_path / "svc" / "Dockerfile",
        "FROM alpine:3.20 AS build\nARG UID=10001\nUSER $UID\n\nFROM build\nUSER 10002\n",
    )
    code, doc = lint_json(["svc/Dockerfile", "--target", "build", "--build-arg", "UID=0"], tmp_path, capsys)
    assert code == 1
    assert [(f["rule"], f["line"], f["target"]) for f in doc["findings"]] == [("DF101", 3, "stage build")]
    code, doc = lint_json(["svc/Dockerfile", "--build-arg", "UID=0"], tmp_path, capsys)
    assert code == 0
    assert doc["findings"] == []


def test_target_missing_is_usage_error(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine:3.20\n")
    result = run(["lint", "--target", "nope"], tmp_path)
    assert result.returncode == 2
    assert "target stage 'nope' not found" in result.stdout


def test_missing_path_is_usage_error(tmp_path: Path) -> None:
    result = run(["lint", "does-not-exist"], tmp_path)
    assert result.returncode == 2
    assert "does-not-exist: no such file or directory" in result.stderr


def test_stdin_with_name(tmp_path: Path) -> None:
    result = run(["lint", "-", "--stdin-filename", "api/Dockerfile"], tmp_path, stdin=b"FROM alpine\nUSER 0\n")
    assert result.returncode == 1
    assert result.stdout.startswith("api/Dockerfile:2:1: DF101 [error]")


def test_text_output_grouped_with_summary_and_no_color_when_piped(tmp_path: Path) -> None:
    write(tmp_path / "a" / "Dockerfile", "FROM alpine\nUSER 0\nRUN sudo id\n")
    write(tmp_path / "b" / "Dockerfile", "FROM alpine\nUSER app\n")
    result = run(["lint"], tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "a/Dockerfile:2:1: DF101 [error] stage 0 runs as root: USER 0 is uid 0"
    assert lines[1].startswith("a/Dockerfile:3:1: DF104 [warning]")
    assert lines[2] == ""
    assert lines[3].startswith("b/Dockerfile:2:1: DF102 [warning]")
    assert lines[-1] == "Found 3 findings (1 error, 2 warnings) in 2 of 2 files."
    assert "\033[" not in result.stdout


def test_color_only_on_tty_and_never_with_no_color(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secpolicy import cli

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._color(None) is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli._color(None) is False
    monkeypatch.delenv("NO_COLOR")
    assert cli._color(tmp_path / "report.txt") is False


def test_output_file_written(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine\nUSER 0\n")
    result = run(["lint", "--format", "json", "--output", "report.json"], tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["findings"] == 1
    assert not list(tmp_path.glob(".report.json.tmp*"))


# -- bad input: SP001 with path and reason, others still linted, exit 1, no traceback


BAD_INPUTS: dict[str, bytes] = {
    "binary": b"\x7fELF\x02\x01\x01\x00\x00\x00",
    "invalid-utf8": b"FROM alpine\nLABEL x=\xc3\x28\n",
    "unterminated-heredoc": b"FROM alpine\nRUN <<EOF\necho x\n",
    "empty": b"",
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_reported_and_others_linted(kind: str, tmp_path: Path) -> None:
    write(tmp_path / "bad" / "Dockerfile", BAD_INPUTS[kind])
    write(tmp_path / "good" / "Dockerfile", "FROM alpine\nUSER 0\n")
    result = run(["lint", "--format", "json"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    by_rule = {(f["rule"], f["path"]) for f in doc["findings"]}
    assert ("SP001", "bad/Dockerfile") in by_rule
    assert ("DF101", "good/Dockerfile") in by_rule
    sp001 = next(f for f in doc["findings"] if f["rule"] == "SP001")
    assert sp001["line"] >= 1
    assert "cannot lint this file" in sp001["message"]


def test_huge_file(tmp_path: Path) -> None:
    big = tmp_path / "huge" / "Dockerfile"
    big.parent.mkdir()
    with big.open("wb") as fh:
        fh.write(b"FROM alpine\n")
        fh.write(b"# padding\n" * (50 * 1024 * 1024 // 10))
    assert big.stat().st_size >= 50 * 1024 * 1024
    write(tmp_path / "ok" / "Dockerfile", "FROM alpine\nUSER 10001\n")
    result = run(["lint", "--format", "json"], tmp_path)
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    [finding] = doc["findings"]
    assert finding["rule"] == "SP001"
    assert finding["path"] == "huge/Dockerfile"
    assert "too large" in finding["message"]
    assert doc["summary"]["files"] == 2


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    target = write(tmp_path / "locked" / "Dockerfile", "FROM alpine\n")
    write(tmp_path / "ok" / "Dockerfile", "FROM alpine\nUSER 0\n")
    if is_root():
        # root reads any file: make the open fail the way EACCES does
        real_open = Path.open

        def deny(self: Path, *args: object, **kwargs: object):
            if self.name == "Dockerfile" and self.parent.name == "locked":
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(Path, "open", deny)
    else:
        target.chmod(0)
    code, doc = lint_json([], tmp_path, capsys)
    assert code == 1
    rules = {(f["rule"], f["path"], f["message"]) for f in doc["findings"]}
    assert ("SP001", "locked/Dockerfile", "cannot lint this file: Permission denied") in rules
    assert any(r == "DF101" for r, _, _ in rules)


def test_fifo_named_dockerfile_does_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "Dockerfile")
    result = run(["lint", "--format", "json"], tmp_path)
    doc = json.loads(result.stdout)
    assert [f["rule"] for f in doc["findings"]] == ["SP001"]
    assert "not a regular file" in doc["findings"][0]["message"]


def test_internal_error_has_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from secpolicy import engine

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    write(tmp_path / "Dockerfile", "FROM alpine\n")
    monkeypatch.setattr(engine.Engine, "lint_text", boom)
    monkeypatch.delenv("SECPOLICY_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["lint"]) == 2
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom" in err
    assert "Traceback" not in err


def test_rules_and_explain(tmp_path: Path) -> None:
    result = run(["rules"], tmp_path)
    assert result.returncode == 0
    assert any(line.startswith("DF101   error    root-user") for line in result.stdout.splitlines())
    result = run(["rules", "--format", "json"], tmp_path)
    ids = [r["id"] for r in json.loads(result.stdout)]
    assert "DF101" in ids
    assert "SP001" in ids
    result = run(["explain", "df101"], tmp_path)
    assert result.returncode == 0
    assert "## What it does" in result.stdout
    assert "DF101 `root-user`" in result.stdout
    assert run(["explain", "root-user"], tmp_path).stdout == result.stdout
    bad = run(["explain", "XX1"], tmp_path)
    assert bad.returncode == 2
    assert "unknown rule" in bad.stderr


def test_help_explains_commands(tmp_path: Path) -> None:
    result = run(["lint", "--help"], tmp_path)
    assert result.returncode == 0
    for option in ("--format", "--target", "--build-arg", "--fail-on", "--select", "--ignore", "--stdin-filename"):
        assert option in result.stdout


def test_resolve_json(tmp_path: Path) -> None:
    write(
        tmp_path / "svc" / "Dockerfile",
        "FROM alpine AS base\nARG UID=10001\nUSER ${UID}:${UID}\n\nFROM base\nRUN true\n",
    )
    result = run(["resolve", "svc/Dockerfile", "--format", "json"], tmp_path)
    assert result.returncode == 0, result.stderr
    [ctx] = json.loads(result.stdout)
    assert ctx["kind"] == "dockerfile-stage"
    assert ctx["path"] == "svc/Dockerfile"
    assert ctx["target"] == "stage 1"
    assert ctx["user"] == {
        "uid": 10001,
        "gid": 10001,
        "groups": [],
        "name": None,
        "known": True,
        "source": "svc/Dockerfile:3 (USER ${UID}:${UID})",
        "reason": None,
    }
    caps = ctx["capabilities"]
    assert len(caps["bounding"]) == 14
    assert caps["effective"] == []
    assert caps["permitted"] == []
    assert ctx["privileged"] is False
    assert ctx["seccomp"] == "RuntimeDefault"
    assert ctx["provenance"]["user"] == "svc/Dockerfile:3 (USER ${UID}:${UID})"
    assert ctx["provenance"]["capabilities"] == "runtime default (Docker/containerd)"


def test_resolve_root_gets_bounding_set_and_all_stages(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM scratch AS a\nCOPY x /x\nFROM ghcr.io/acme/node:20\n")
    result = run(["resolve", "--all-stages", "--format", "json"], tmp_path)
    a, b = json.loads(result.stdout)
    assert a["user"]["uid"] == 0
    assert a["capabilities"]["effective"] == a["capabilities"]["bounding"]
    assert b["user"]["known"] is False
    assert b["capabilities"]["effective"] is None
    text = run(["resolve"], tmp_path).stdout
    assert "Dockerfile [stage 1]" in text
    assert "unknown: base image ghcr.io/acme/node:20" in text


def test_no_c_compiler_dependency() -> None:
    """lint's dependencies are pure Python or ship wheels; python-prctl is not one of them."""
    text = (ROOT / "pyproject.toml").read_text()
    deps = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "prctl" not in deps


def test_display_paths_are_relative(tmp_path: Path) -> None:
    assert sources.display(tmp_path / "a" / "Dockerfile", tmp_path) == "a/Dockerfile"


def test_version_and_short_help(tmp_path: Path) -> None:
    from secpolicy import __version__

    result = run(["--version"], tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, f"secpolicy {__version__}")
    result = run(["-h"], tmp_path)
    assert result.returncode == 0
    assert "lint" in result.stdout
    assert run(["lint", "-h"], tmp_path).returncode == 0


def test_no_arguments_prints_help_and_exits_2(tmp_path: Path) -> None:
    result = run([], tmp_path)
    assert result.returncode == 2
    assert "Usage: secpolicy" in result.stdout + result.stderr


def test_metavars_read_as_words(tmp_path: Path) -> None:
    text = run(["lint", "--help"], tmp_path).stdout
    assert "[PATH...]" in text
    assert "<list" not in text
    options = text.split("Options:", 1)[1]
    for metavar in ("KEY=VALUE", "STAGE", "IDS", "FILE", "GLOB", "text|json"):
        assert metavar in options
    assert "<list" not in options
    assert "<str>" not in options


def test_target_given_twice_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine AS a\nFROM alpine AS b\n")
    result = run(["lint", "--target", "a", "--target", "b"], tmp_path)
    assert result.returncode == 2
    assert "--target given 2 times" in result.stderr


def test_symlink_loop_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = run(["lint", "a"], tmp_path)
    assert result.returncode == 1
    assert "internal error" not in result.stdout + result.stderr
    assert "a:1:1: SP001 [error] cannot lint this file: symbolic link loop" in result.stdout


def test_no_dockerfile_found_is_a_note(tmp_path: Path) -> None:
    write(tmp_path / "README.md", "hello\n")
    result = run(["lint", "."], tmp_path)
    assert result.returncode == 0
    assert "no Dockerfile or manifest found in ." in result.stderr


def test_exclude_and_default_template_skip(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile.tmpl", "FROM {{ base }}\n")
    write(tmp_path / "vendor" / "Dockerfile", "FROM alpine\nUSER 0\n")
    write(tmp_path / "Dockerfile", "FROM alpine\nUSER 1000\n")
    result = run(["lint", "--format", "json", "--exclude", "vendor/"], tmp_path)
    doc = json.loads(result.stdout)
    assert doc["findings"] == []
    assert doc["summary"]["files"] == 1
    named = run(["lint", "Dockerfile.tmpl"], tmp_path)
    assert "SP001" in named.stdout


def test_build_arg_key_unset_in_environment_is_dropped(tmp_path: Path) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine\nARG UID=1000\nUSER $UID\n")
    env = {k: v for k, v in os.environ.items() if k != "UID"}
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", "--build-arg", "UID", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout  # the default 1000 applies, not ""
    result = run(["lint", "--build-arg", "UID", "--format", "json"], tmp_path, env={"UID": "0"})
    assert result.returncode == 1


def test_a_crashing_file_does_not_lose_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    write(tmp_path / "bad" / "Dockerfile", "FROM alpine\nUSER 0\n")
    write(tmp_path / "good" / "Dockerfile", "FROM alpine\nUSER root\n")
    from secpolicy import checks
    from secpolicy.checks import user

    original = user.root

    def explode(analysis, params):
        if analysis.dockerfile.path.startswith("bad"):
            raise RuntimeError("boom")
        yield from original(analysis, params)

    before = checks.CHECKS["user.root"]
    monkeypatch.setitem(checks.CHECKS, "user.root", checks.CheckDef(explode, before.kinds, before.params))
    code, doc = lint_json([], tmp_path, capsys)
    assert code == 1
    got = sorted((f["path"], f["rule"]) for f in doc["findings"])
    assert got == [("bad/Dockerfile", "SP001"), ("good/Dockerfile", "DF101")]
    [sp001] = [f for f in doc["findings"] if f["rule"] == "SP001"]
    assert "internal error" in sp001["message"]


@pytest.mark.parametrize(
    "text",
    [
        "FROM alpine\nRUN echo " + "$(" * 300 + "id" + ")" * 300 + "\n",
        "FROM alpine\nUSER " + "${A:-" * 400 + "1" + "}" * 400 + "\n",
        "FROM alpine\n" + "ONBUILD " * 1200 + "RUN true\n",
        "FROM alpine\nCMD " + "[" * 1200 + "]" * 1200 + "\n",
        "FROM alpine\nUSER " + "1" * 5000 + "\n",
        "FROM alpine\nENV A=x\n" + "".join("ENV A=$A$A\n" for _ in range(40)),
    ],
)
def test_pathological_files_never_crash(text: str, tmp_path: Path, capsys) -> None:
    write(tmp_path / "x" / "Dockerfile", text)
    write(tmp_path / "y" / "Dockerfile", "FROM alpine\nUSER root\n")
    code, doc = lint_json([], tmp_path, capsys)
    assert code == 1
    assert ("y/Dockerfile", "DF101") in {(f["path"], f["rule"]) for f in doc["findings"]}
    assert not any("internal error" in f["message"] for f in doc["findings"])


def test_json_findings_carry_end_positions_and_keys(tmp_path: Path, capsys) -> None:
    write(
        tmp_path / "Dockerfile", "FROM alpine AS build\nENV DB_PASSWORD=hunter2x \\\n    OTHER=1\nRUN sudo id\nUSER 0\n"
    )
    _, doc = lint_json([], tmp_path, capsys)
    got = {f["rule"]: (f["line"], f["column"], f["end_line"], f["end_column"], f["key"]) for f in doc["findings"]}
    assert got["DF301"] == (2, 1, 3, 12, "stage build:DB_PASSWORD")  # the whole ENV instruction
    assert got["DF104"] == (4, 1, 4, 12, "stage build:sudo")
    assert got["DF101"] == (5, 1, 5, 7, "stage build")
    # the keys do not move with the lines
    write(
        tmp_path / "Dockerfile",
        "# a comment\nFROM alpine AS build\nENV DB_PASSWORD=hunter2x \\\n    OTHER=1\nRUN sudo id\nUSER 0\n",
    )
    _, doc = lint_json([], tmp_path, capsys)
    assert {f["key"] for f in doc["findings"]} == {g[4] for g in got.values()}


def test_target_applies_to_the_files_that_have_the_stage(tmp_path: Path, capsys) -> None:
    write(tmp_path / "a" / "Dockerfile", "FROM alpine AS build\nUSER 0\nFROM alpine\nUSER 1\n")
    write(tmp_path / "b" / "Dockerfile", "FROM alpine\nUSER 1\n")
    code, doc = lint_json(["--target", "build"], tmp_path, capsys)
    assert code == 1  # a/Dockerfile's build stage runs as root; b has no such stage
    assert [(f["path"], f["rule"]) for f in doc["findings"]] == [("a/Dockerfile", "DF101")]
    assert [e["message"] for e in doc["errors"]] == ["b/Dockerfile: target stage 'build' not found (stages: 0)"]
    code, doc = lint_json(["--target", "nope"], tmp_path, capsys)
    assert code == 2  # no file has it


def test_every_format_has_a_renderer() -> None:
    from secpolicy.cli import LintFormat
    from secpolicy.report import RENDERERS, RenderOptions, Report, renderer

    assert set(RENDERERS) == {f.value for f in LintFormat}
    empty = {name: renderer(name)(Report([], [], [], 0), RenderOptions()) for name in RENDERERS}
    assert "0" in empty["text"]
    assert json.loads(empty["json"])["summary"]["findings"] == 0
    assert json.loads(empty["sarif"])["runs"][0]["results"] == []  # an empty upload closes fixed alerts
    assert json.loads(empty["gitlab"]) == []
    assert empty["github"] == ""
    assert 'tests="0"' in empty["junit"]


def test_profile_selects_the_rules_of_that_profile(tmp_path: Path, capsys) -> None:
    write(tmp_path / "Dockerfile", "FROM alpine\nUSER 0\n")
    code, doc = lint_json(["--profile", "pss-restricted"], tmp_path, capsys)
    assert (code, doc["findings"]) == (0, [])  # no Dockerfile rule is in a pod profile
    code, doc = lint_json(["--profile", "default"], tmp_path, capsys)
    assert [f["rule"] for f in doc["findings"]] == ["DF101"]
    assert run(["lint", "--profile", "strict"], tmp_path).returncode == 2


PRIVILEGED_POD = """---
# Source: chart/templates/pod.yaml
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext: {privileged: true}
"""


def test_manifest_stream_on_stdin() -> None:
    result = run(["lint", "-", "--format", "json", "--select", "K8S002"], ROOT, stdin=PRIVILEGED_POD.encode())
    assert result.returncode == 1
    (finding,) = json.loads(result.stdout)["findings"]
    assert finding["rule"] == "K8S002"
    assert finding["path"] == "<stdin>"
    assert finding["field"] == "spec.containers[0].securityContext.privileged"


def test_pss_profile_and_version(tmp_path: Path) -> None:
    write(tmp_path / "k8s" / "pod.yaml", PRIVILEGED_POD.replace("{privileged: true}", "{runAsUser: 0}"))
    old = run(["lint", "--profile", "pss-restricted", "--pss-version", "v1.22", "--format", "json", "k8s"], tmp_path)
    new = run(["lint", "--profile", "pss-restricted", "--pss-version", "latest", "--format", "json", "k8s"], tmp_path)
    assert "K8S104" not in {f["rule"] for f in json.loads(old.stdout)["findings"]}  # runAsUser: from v1.23
    assert "K8S104" in {f["rule"] for f in json.loads(new.stdout)["findings"]}
    bad = run(["lint", "--pss-version", "1.x", "k8s"], tmp_path)
    assert bad.returncode == 2
    assert "invalid PSS version" in bad.stderr


def test_resolve_manifest_json(tmp_path: Path) -> None:
    write(tmp_path / "deploy.yaml", PRIVILEGED_POD.replace("{privileged: true}", "{runAsUser: 1000}"))
    result = run(["resolve", "deploy.yaml", "--format", "json"], tmp_path)
    assert result.returncode == 0, result.stderr
    (ctx,) = json.loads(result.stdout)
    assert ctx["kind"] == "container"
    assert ctx["target"] == "Pod/p container app"
    assert ctx["user"]["uid"] == 1000
    assert ctx["provenance"]["user"] == "deploy.yaml:10:spec.containers[0].securityContext.runAsUser"


def test_helm_chart_templates_are_skipped_in_the_walk(tmp_path: Path) -> None:
    write(tmp_path / "chart" / "Chart.yaml", "apiVersion: v2\nname: c\nversion: 1.0.0\n")
    write(
        tmp_path / "chart" / "templates" / "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: {{ .Release.Name }}}\n",
    )
    result = run(["lint", "--format", "json", "."], tmp_path)
    assert json.loads(result.stdout)["findings"] == []
    named = run(["lint", "--format", "json", "chart/templates/pod.yaml"], tmp_path)
    (finding,) = json.loads(named.stdout)["findings"]
    assert "helm template" in finding["message"]


def test_bundled_examples_demo() -> None:
    """What `bash dev.sh demo` shows: Dockerfiles and a manifest whose image resolves through its Dockerfile."""
    lint = run(["lint", "examples", "--format", "json", "--fail-on", "never"], ROOT)
    findings = json.loads(lint.stdout)["findings"]
    by_target = {(f["path"], f["target"]) for f in findings}
    assert ("examples/deploy/worker.yaml", "CronJob/cleanup") in by_target
    assert not [f for f in findings if (f["target"] or "").startswith("Deployment/worker")]
    assert {"K8S001", "K8S206", "DF101"} <= {f["rule"] for f in findings}
    resolved = json.loads(run(["resolve", "examples/deploy/worker.yaml", "--format", "json"], ROOT).stdout)
    worker = next(c for c in resolved if c["target"] == "Deployment/worker container worker")
    assert worker["user"]["uid"] == 10001
    assert "examples/worker/Dockerfile:5" in worker["user"]["source"]


def test_stdin_manifest_with_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + PRIVILEGED_POD.encode()
    result = run(["lint", "-", "--format", "json", "--select", "K8S002,SP001"], ROOT, stdin=data)
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["K8S002"]
