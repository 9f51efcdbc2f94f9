"""github, gitlab and junit output, each checked against the shape its consumer documents."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from secpolicy import catalog
from secpolicy.model import Finding, Severity
from secpolicy.report import RenderOptions, Report, renderer

RULES = catalog.load()


def report(findings: list[Finding], paths: list[str] | None = None, errors: list[str] | None = None) -> Report:
    ran = [RULES[r] for r in sorted({f.rule for f in findings})]
    return Report(ran, findings, errors or [], len(paths or []), paths or [])


FINDINGS = [
    Finding(
        "DF101",
        Severity.ERROR,
        "stage 0 runs as root: 100% sure\nsecond line",
        "a dir,x/Dockerfile",
        3,
        2,
        end_line=3,
        end_column=9,
        key="stage 0",
    ),
    Finding("CTX102", Severity.WARNING, "x.pem is sent", "Dockerfile", 1, key="x.pem"),
    Finding("CTX106", Severity.NOTE, "node_modules/ is sent", "Dockerfile", 1, key="node_modules"),
    Finding("DF102", Severity.WARNING, "suppressed one", "Dockerfile", 5, suppressed=True, suppression="ok"),
    Finding("K8S002", Severity.ERROR, "privileged", "k8s/pod.yaml", 7, 9, key="c"),
]

# workflow command syntax (actions/toolkit command.ts): ::name key=value,key=value::message
COMMAND = re.compile(r"::(error|warning|notice)(?: ([A-Za-z]+=[^,:]*(?:,[A-Za-z]+=[^,:]*)*))?::(.*)")


def test_github_annotations() -> None:
    text = renderer("github")(report(FINDINGS, errors=["--target x: no such stage"]), RenderOptions())
    lines = text.splitlines()
    assert len(lines) == 5  # the suppressed finding is not annotated; the run error is
    for line in lines:
        assert COMMAND.fullmatch(line), line
    assert lines[0] == (
        "::error file=a dir%2Cx/Dockerfile,line=3,col=2,endLine=3,endColumn=9,title=DF101 root-user"
        "::stage 0 runs as root: 100%25 sure%0Asecond line"
    )
    assert lines[1].startswith("::warning file=Dockerfile,line=1,col=1,endLine=1,title=CTX102 ")
    assert lines[2].startswith("::notice ")
    assert lines[4] == "::error title=secpolicy::--target x: no such stage"


def test_github_escapes_property_separators() -> None:
    from secpolicy.report.github import escape_data, escape_property

    assert escape_property("a:b,c%d\r\n") == "a%3Ab%2Cc%25d%0D%0A"
    assert escape_data("a:b,c") == "a:b,c"


GITLAB_SCHEMA = {
    # GitLab's documented code quality report: an array of issues (doc/ci/testing/code_quality.md)
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "categories": {"type": "array", "items": {"type": "string"}},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string"},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def test_gitlab_code_quality() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (dev dependency) is not installed")
    issues = json.loads(renderer("gitlab")(report(FINDINGS), RenderOptions()))
    jsonschema.validate(issues, GITLAB_SCHEMA)
    assert [i["severity"] for i in issues] == ["major", "minor", "info", "critical"]  # K8S002 scores 9.0
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    assert issues[0]["categories"] == ["Security"]
    assert "categories" not in issues[2] or issues[2]["categories"] == []  # CTX106 is not a security rule
    assert issues[0]["location"] == {"path": "a dir,x/Dockerfile", "lines": {"begin": 3, "end": 3}}


def test_junit_one_case_per_file_a_failure_per_finding() -> None:
    text = renderer("junit")(
        report(
            [*FINDINGS, Finding("SP001", Severity.ERROR, "bad\x1bbyte", "x", 1)],
            paths=["Dockerfile", "clean/Dockerfile", "k8s/pod.yaml", "a dir,x/Dockerfile", "x"],
        ),
        RenderOptions(),
    )
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(text)  # noqa: S314 - our own output
    assert root.tag == "testsuites"
    [suite] = root
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"Dockerfile", "clean/Dockerfile", "k8s/pod.yaml", "a dir,x/Dockerfile", "x"}
    assert all(case.get("classname") == "secpolicy" for case in cases.values())
    assert list(cases["clean/Dockerfile"]) == []  # a clean file is a passing case
    assert [f.get("type") for f in cases["Dockerfile"].iter("failure")] == ["CTX102", "CTX106"]
    assert suite.get("tests") == "5"
    assert suite.get("failures") == "4"
    [bad] = cases["x"].iter("failure")
    assert "\x1b" not in (bad.get("message") or "")  # XML 1.0 cannot hold it
