"""Pragmas of hadolint and checkov suppress the secpolicy rules they alias; stale suppressions are reported."""

from __future__ import annotations

from pathlib import Path

from secpolicy import catalog
from secpolicy.engine import Engine, LintOptions
from secpolicy.model import Finding

RULES = catalog.load()


def lint(text: str, name: str = "Dockerfile", select: tuple[str, ...] = ("DF1", "SP002")) -> list[Finding]:
    engine = Engine(RULES, LintOptions(select=list(select)))
    if name.endswith(".yaml"):
        return engine.lint_manifest(text, name).findings
    return engine.lint_text(text, name).findings


def rules_of(findings: list[Finding], suppressed: bool) -> list[str]:
    return sorted(f.rule for f in findings if f.suppressed is suppressed)


def test_hadolint_ignore_above_an_instruction() -> None:
    findings = lint("FROM alpine\n# hadolint ignore=DL3002,DL3008\nUSER root\n")
    [df101] = [f for f in findings if f.rule == "DF101"]
    assert df101.suppressed
    assert df101.suppression == "hadolint ignore=DL3002"
    assert rules_of(findings, False) == []  # DL3008 has no secpolicy rule: left to hadolint, no SP002


def test_hadolint_global_ignore_covers_the_file() -> None:
    findings = lint("# hadolint global ignore=DL3004\nFROM alpine\nRUN sudo apk add x\nUSER 1000\n")
    assert rules_of(findings, True) == ["DF104"]
    assert rules_of(findings, False) == []


def test_checkov_skip_covers_the_file_with_its_reason() -> None:
    findings = lint("FROM alpine\n# checkov:skip=CKV_DOCKER_3: a build image, never deployed\nRUN make\n")
    [df101] = [f for f in findings if f.rule == "DF101"]
    assert (df101.suppressed, df101.suppression) == (True, "a build image, never deployed")


def test_checkov_annotation_on_a_pod() -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        "    checkov.io/skip1: CKV_K8S_16=the node agent needs it\n"
        "spec:\n  containers:\n  - {name: c, image: nginx:1.27, securityContext: {privileged: true}}\n"
    )
    findings = lint(pod, "pod.yaml", ("K8S002", "SP002"))
    [k8s002] = findings
    assert (k8s002.suppressed, k8s002.suppression) == (True, "the node agent needs it")


def test_a_suppression_that_matches_nothing_is_reported() -> None:
    findings = lint("FROM alpine\n# secpolicy: ignore=DF101 reason=was root once\nUSER 1000\n")
    [stale] = findings
    assert (stale.rule, stale.line) == ("SP002", 2)
    assert "suppression of DF101 matches no finding: remove it" in stale.message
    # a rule that did not run is not judged stale (--select)
    assert lint("FROM alpine\n# secpolicy: ignore=DF104 reason=x\nUSER 1000\n", select=("DF101", "SP002")) == []
    stale_hadolint = lint("FROM alpine\n# hadolint ignore=DL3002\nUSER 1000\n")
    assert [f.rule for f in stale_hadolint] == ["SP002"]


def test_stale_manifest_suppressions() -> None:
    pod = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        '    secpolicy.dev/ignore: "K8S002: was privileged"\n'
        "spec:\n  containers:\n  # secpolicy: ignore=K8S002 reason=was privileged\n  - {name: c, image: nginx:1.27}\n"
    )
    findings = lint(pod, "pod.yaml", ("K8S002", "SP002"))
    assert sorted((f.rule, f.line) for f in findings) == [("SP002", 6), ("SP002", 9)]


def test_migrated_pragmas_from_the_command_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n# hadolint ignore=DL3002\nUSER root\n")
    (tmp_path / ".dockerignore").write_text("x\n")
    done = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", "."], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
