"""The JSON contract (``--format json``); keys are stable."""

from __future__ import annotations

import json
from collections.abc import Sequence

from secpolicy import __version__
from secpolicy.model import EffectiveContext
from secpolicy.report import RenderOptions, Report


def _one_line(value: object) -> str:
    # the C encoder: json's indent= makes it fall back to the pure-Python one, five times slower
    return json.dumps(value, separators=(", ", ": "))


def _items(values: Sequence[object], indent: str) -> str:
    """A JSON array with one item per line (readable, and diffable finding by finding)."""
    if not values:
        return "[]"
    inner = indent + "  "
    return "[\n" + ",\n".join(inner + _one_line(v) for v in values) + "\n" + indent + "]"


def render(report: Report, options: RenderOptions) -> str:
    fields = [
        ("tool", _one_line("secpolicy")),
        ("version", _one_line(__version__)),
        ("findings", _items([f.to_json() for f in report.findings], "  ")),
        ("errors", _items([{"message": e} for e in report.errors], "  ")),
        ("summary", _one_line(report.summary)),
    ]
    return "{\n" + ",\n".join(f'  "{key}": {text}' for key, text in fields) + "\n}\n"


def contexts(items: Sequence[EffectiveContext]) -> str:
    return _items([c.to_json() for c in items], "") + "\n"
