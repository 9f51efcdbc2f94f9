"""SARIF 2.1.0 (``--format sarif``), as GitHub code scanning reads it.

The log is built from sarif-om's object model and written by the small
serializer below, not by ``jschema_to_python.to_json``: that one drops every
value equal to its attrs default, which loses ``level: warning`` (consumers
then fall back to the rule's level), and sarif-om's ``Suppression`` still has
the pre-release ``state`` where the final schema says ``status``, so
suppressions are written as plain objects.  Property bags (``tags``,
``security-severity``, ``precision``) are plain mappings, with
``security-severity`` a string as GitHub wants it.

One run; every rule that ran is in ``tool.driver.rules`` (with its help from
the rule's docs); each result has an explicit level, one location relative to
``%SRCROOT%`` with a full region (``endColumn`` is the column after the last
character), GitHub's ``primaryLocationLineHash`` and our own key-based
fingerprint, and, when suppressed, its suppression with the reason.
``--sarif-category`` sets ``automationDetails.id``.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attr
import sarif_om as om

from secpolicy import HOMEPAGE, __version__
from secpolicy.catalog import Rule
from secpolicy.engine import EXCEPTION
from secpolicy.model import Finding, Severity
from secpolicy.report import RenderOptions, Report
from secpolicy.report.fingerprint import key_fingerprint, line_hashes

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
CATEGORY = "secpolicy"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_PROBLEM = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "recommendation"}
_KINDS = {"dockerfile": "dockerfile", "container": "kubernetes", "pod": "kubernetes", "context": "build-context"}
_KEEP = frozenset({"level"})  # written even when equal to sarif-om's default
_MAX_FILE = 16 * 1024 * 1024  # a file read for its line hashes


def render(report: Report, options: RenderOptions) -> str:
    rules = list(report.rules)
    known = {rule.id for rule in rules}
    for finding in report.findings:  # SP001 and friends run whatever was selected
        if finding.rule not in known:
            from secpolicy import catalog

            rules.append(catalog.load()[finding.rule])
            known.add(finding.rule)
    index = {rule.id: i for i, rule in enumerate(rules)}
    hashes = _Hashes()
    results = [_result(f, index[f.rule], hashes) for f in report.findings]
    category = options.extra.get("sarif-category") or CATEGORY
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="secpolicy",
                version=__version__,
                semantic_version=__version__,
                information_uri=HOMEPAGE,
                rules=[_rule(rule) for rule in rules],
            )
        ),
        results=results,
        automation_details=om.RunAutomationDetails(id=category if category.endswith("/") else f"{category}/"),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=Path.cwd().as_uri() + "/")},
        column_kind="unicodeCodePoints",  # our columns count characters, not UTF-16 units
        invocations=[
            om.Invocation(
                execution_successful=not report.errors,
                tool_execution_notifications=[
                    om.Notification(message=om.Message(text=error), level="error") for error in report.errors
                ]
                or None,
            )
        ],
    )
    log = om.SarifLog(version="2.1.0", schema_uri=SCHEMA, runs=[run])
    return json.dumps(to_sarif(log), indent=2, ensure_ascii=False) + "\n"


def _rule(rule: Rule) -> om.ReportingDescriptor:
    properties: dict[str, Any] = {"tags": _tags(rule), "precision": rule.precision}
    if rule.cwe:
        properties["security-severity"] = f"{rule.security_severity:.1f}"
    else:
        properties["problem.severity"] = _PROBLEM[rule.severity]
    return om.ReportingDescriptor(
        id=rule.id,
        name=_pascal(rule.slug),
        short_description=om.MultiformatMessageString(text=rule.title[:1024]),
        full_description=om.MultiformatMessageString(text=_what_it_does(rule)[:1024]),
        help=om.MultiformatMessageString(text=_plain(rule.docs), markdown=f"# {rule.id}: {rule.title}\n\n{rule.docs}"),
        default_configuration=om.ReportingConfiguration(level=_LEVELS[rule.severity]),
        properties=properties,
    )


def _tags(rule: Rule) -> list[str]:
    tags = ["security"] if rule.cwe else ["correctness"]
    tags += [f"external/cwe/cwe-{n}" for n in rule.cwe]
    tags.append(_KINDS.get(rule.target, rule.target))
    return tags[:10]  # GitHub keeps at most 10


def _pascal(slug: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in slug.split("-"))


def _what_it_does(rule: Rule) -> str:
    body = rule.docs.split("## What it does", 1)[-1].split("\n## ", 1)[0]
    return " ".join(body.split()) or rule.title


def _plain(markdown: str) -> str:
    return "\n".join(line.removeprefix("## ").removeprefix("# ") for line in markdown.splitlines()).strip() + "\n"


def _result(finding: Finding, rule_index: int, hashes: _Hashes) -> om.Result:
    end_line = finding.end_line if finding.end_line is not None else finding.line
    end_column = finding.end_column
    if end_column is None:  # to the end of its line
        end_column = hashes.line_length(finding.path, end_line) + 1
    end_column = max(end_column, finding.column + 1 if end_line == finding.line else 1)
    fingerprints = {"secpolicy/v1": key_fingerprint(finding.rule, finding.path, finding.key or finding.message)}
    line_hash = hashes.get(finding.path, finding.line)
    if line_hash is not None:
        fingerprints["primaryLocationLineHash"] = line_hash
    region = om.Region(
        start_line=max(finding.line, 1),
        start_column=max(finding.column, 1),
        end_line=max(end_line, 1),
        end_column=end_column,
    )
    location = om.Location(
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=_uri(finding.path), uri_base_id=SRCROOT), region=region
        )
    )
    if finding.field:
        location.logical_locations = [om.LogicalLocation(fully_qualified_name=finding.field, kind="member")]
    result = om.Result(
        rule_id=finding.rule,
        rule_index=rule_index,
        level=_LEVELS[finding.severity],
        message=om.Message(text=finding.message),
        locations=[location],
        partial_fingerprints=fingerprints,
    )
    if finding.suppressed:
        # final-schema names (sarif-om's Suppression has the pre-release "state")
        external = (finding.suppression or "").startswith(EXCEPTION)  # an exception in the config file
        result.suppressions = [
            {
                "kind": "external" if external else "inSource",
                "status": "accepted",
                "justification": finding.suppression or "suppressed in source",
            }
        ]
    return result


def _uri(path: str) -> str:
    return urllib.parse.quote(path.replace(os.sep, "/"), safe="/:@!$&'()*+,;=-._~")


class _Hashes:
    """Line hashes and lengths of the files findings point into, each file read once."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[dict[int, str], list[int]] | None] = {}

    def _load(self, path: str) -> tuple[dict[int, str], list[int]] | None:
        if path not in self._files:
            self._files[path] = None
            try:
                file = Path(path)
                if file.is_file() and not file.is_symlink() and file.stat().st_size <= _MAX_FILE:
                    text = file.read_bytes().decode("utf-8", "replace")
                    lengths = [len(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
                    self._files[path] = (line_hashes(text), lengths)
            except OSError:
                pass
        return self._files[path]

    def get(self, path: str, line: int) -> str | None:
        loaded = self._load(path)
        return loaded[0].get(line) if loaded is not None else None

    def line_length(self, path: str, line: int) -> int:
        loaded = self._load(path)
        if loaded is None or not 1 <= line <= len(loaded[1]):
            return 1
        return loaded[1][line - 1]


def to_sarif(obj: Any) -> Any:
    """sarif-om objects to JSON values under the schema's property names; values equal to a default are left out."""
    if attr.has(type(obj)):
        out: dict[str, Any] = {}
        for f in attr.fields(type(obj)):
            value = getattr(obj, f.name)
            if value is None:
                continue
            default = f.default.factory() if isinstance(f.default, attr.Factory) else f.default  # type: ignore[arg-type]
            if value == default and f.name not in _KEEP:
                continue
            out[f.metadata.get("schema_property_name", f.name)] = to_sarif(value)
        return out
    if isinstance(obj, Mapping):
        return {str(k): to_sarif(v) for k, v in obj.items()}
    if isinstance(obj, Sequence) and not isinstance(obj, str):
        return [to_sarif(v) for v in obj]
    if obj is None or isinstance(obj, str | int | float | bool):
        return obj
    raise TypeError(f"cannot write {type(obj).__name__} into SARIF")
