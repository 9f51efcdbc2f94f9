"""GitLab code quality (``--format gitlab``): the JSON array GitLab's Code Quality widget reads.

Each issue has ``description``, ``check_name``, ``fingerprint`` (ours: the
rule, the file and the finding's key, so an issue keeps its identity when
lines move), ``severity`` (``info``, ``minor``, ``major``, ``critical``) and
``location.path``/``location.lines.begin``/``end``; security rules also get
the ``Security`` category.  Suppressed findings are left out.
"""

from __future__ import annotations

import json

from secpolicy.catalog import Rule
from secpolicy.model import Finding, Severity
from secpolicy.report import RenderOptions, Report
from secpolicy.report.fingerprint import key_fingerprint


def severity(finding: Finding, rule: Rule | None) -> str:
    if finding.severity is Severity.NOTE:
        return "info"
    if finding.severity is Severity.WARNING:
        return "minor"
    return "critical" if rule is not None and rule.security_severity >= 9.0 else "major"


def render(report: Report, options: RenderOptions) -> str:
    rules = {rule.id: rule for rule in report.rules}
    issues = []
    for f in report.findings:
        if f.suppressed:
            continue
        rule = rules.get(f.rule)
        issue: dict[str, object] = {
            "type": "issue",
            "description": f"{f.rule}: {f.message}",
            "check_name": f"{f.rule} {rule.slug}" if rule else f.rule,
            "fingerprint": key_fingerprint(f.rule, f.path, f.key or f"{f.line}:{f.message}"),
            "severity": severity(f, rule),
            "location": {"path": f.path, "lines": {"begin": f.line, "end": f.end_line or f.line}},
        }
        if rule is not None and rule.cwe:
            issue["categories"] = ["Security"]
        issues.append(issue)
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
