"""The JSON contract (``--format json``); keys are stable."""

from __future__ import annotations

import json
from collections.abc import Sequence

from secpolicy import __version__
from secpolicy.model import EffectiveContext, Finding


def findings(items: Sequence[Finding], files: int, errors: Sequence[str]) -> str:
    doc = {
        "tool": "secpolicy",
        "version": __version__,
        "findings": [f.to_json() for f in items],
        "errors": [{"message": e} for e in errors],
        "summary": {
            "files": files,
            "findings": sum(1 for f in items if not f.suppressed),
            "suppressed": sum(1 for f in items if f.suppressed),
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def contexts(items: Sequence[EffectiveContext]) -> str:
    return json.dumps([c.to_json() for c in items], indent=2) + "\n"
