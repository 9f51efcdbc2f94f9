"""What renderers receive (``Report``), and the renderers, registered by name.

A new output format is one module here with a ``render(report, options)``
function and one line in ``RENDERERS``; modules are imported only when used.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from secpolicy.catalog import Rule
    from secpolicy.model import Finding


@dataclass(frozen=True)
class Report:
    """One lint run: the rules that ran (with their metadata), findings, errors and counts."""

    rules: Sequence[Rule]
    findings: Sequence[Finding]
    errors: Sequence[str] = ()
    files: int = 0
    paths: Sequence[str] = ()  # the files linted, as shown (a test report lists the clean ones too)
    fail_on: str | None = None  # the config's fail-on, when it sets one (the command line wins)

    @property
    def summary(self) -> dict[str, int]:
        return {
            "files": self.files,
            "findings": sum(1 for f in self.findings if not f.suppressed),
            "suppressed": sum(1 for f in self.findings if f.suppressed),
        }


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    show_suppressed: bool = False
    extra: dict[str, str] = field(default_factory=dict)


class Renderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> str: ...


# name -> module whose ``render`` writes that format
RENDERERS: dict[str, str] = {
    "text": "secpolicy.report.text",
    "json": "secpolicy.report.jsondoc",
    "sarif": "secpolicy.report.sarif",
    "github": "secpolicy.report.github",
    "gitlab": "secpolicy.report.gitlab",
    "junit": "secpolicy.report.junit",
}


def renderer(name: str) -> Renderer:
    module = importlib.import_module(RENDERERS[name])
    render: Renderer = module.render
    return render
