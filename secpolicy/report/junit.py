"""JUnit XML (``--format junit``), for CI test-report views: one test case per file, a failure per finding.

``<testsuites>`` holds one ``<testsuite name="secpolicy">``; each linted file is a
``<testcase classname="secpolicy" name="PATH">``, passing when it has no
unsuppressed finding; each finding is a ``<failure type="RULE" message="...">``
whose text is ``path:line:column: RULE [severity] message``.  Run errors are
``<error>`` elements of a ``secpolicy`` test case.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from secpolicy.model import Finding
from secpolicy.report import RenderOptions, Report


def render(report: Report, options: RenderOptions) -> str:
    findings = [f for f in report.findings if not f.suppressed]
    by_path: dict[str, list[Finding]] = {path: [] for path in report.paths}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    suites = ET.Element("testsuites", name="secpolicy")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="secpolicy",
        tests=str(len(by_path) + (1 if report.errors else 0)),
        failures=str(sum(1 for items in by_path.values() if items)),
        errors=str(len(report.errors)),
        skipped="0",
    )
    for path, items in by_path.items():
        case = ET.SubElement(suite, "testcase", classname="secpolicy", name=path)
        for f in items:
            failure = ET.SubElement(case, "failure", type=f.rule, message=_clean(f.message))
            failure.text = _clean(f"{f.path}:{f.line}:{f.column}: {f.rule} [{f.severity.label}] {f.message}")
    if report.errors:
        case = ET.SubElement(suite, "testcase", classname="secpolicy", name="secpolicy")
        for error in report.errors:
            ET.SubElement(case, "error", type="usage", message=_clean(error))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _clean(text: str) -> str:
    """XML 1.0 cannot hold control characters other than tab and newline, even escaped."""
    return "".join(
        c if c in "\t\n" or (c >= " " and c not in "\ufffe\uffff" and not "\ud800" <= c <= "\udfff") else "\ufffd"
        for c in text
    )
