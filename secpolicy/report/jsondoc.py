"""The JSON contract (``--format json``); keys are stable."""

from __future__ import annotations

import json
from collections.abc import Sequence

from secpolicy import __version__
from secpolicy.model import EffectiveContext
from secpolicy.report import RenderOptions, Report


def render(report: Report, options: RenderOptions) -> str:
    doc = {
        "tool": "secpolicy",
        "version": __version__,
        "findings": [f.to_json() for f in report.findings],
        "errors": [{"message": e} for e in report.errors],
        "summary": report.summary,
    }
    return json.dumps(doc, indent=2) + "\n"


def contexts(items: Sequence[EffectiveContext]) -> str:
    return json.dumps([c.to_json() for c in items], indent=2) + "\n"
