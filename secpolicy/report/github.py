"""GitHub Actions workflow commands (``--format github``): one annotation per finding on the pull request.

``::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=T::message``, escaped as
``@actions/core`` escapes them (``toolkit/packages/core/src/command.ts``): in the
message ``%``, ``\\r`` and ``\\n``; in property values also ``:`` and ``,``.
Notes are ``notice`` annotations; suppressed findings are not annotated.
"""

from __future__ import annotations

from secpolicy.model import Severity
from secpolicy.report import RenderOptions, Report

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: Report, options: RenderOptions) -> str:
    slugs = {rule.id: rule.slug for rule in report.rules}
    lines = []
    for f in report.findings:
        if f.suppressed:
            continue
        props = {
            "file": f.path,
            "line": str(f.line),
            "col": str(f.column),
            "endLine": str(f.end_line if f.end_line is not None else f.line),
        }
        if f.end_column is not None:
            props["endColumn"] = str(f.end_column)
        props["title"] = f"{f.rule} {slugs.get(f.rule, '')}".strip()
        joined = ",".join(f"{k}={escape_property(v)}" for k, v in props.items())
        lines.append(f"::{_COMMANDS[f.severity]} {joined}::{escape_data(f.message)}")
    for error in report.errors:
        lines.append(f"::error title=secpolicy::{escape_data(error)}")
    return "".join(line + "\n" for line in lines)
