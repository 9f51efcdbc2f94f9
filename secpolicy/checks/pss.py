"""K8S001-K8S012, K8S101-K8S107: one Pod Security Standards control each, as PSA judges the declared spec."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from secpolicy.checks.base import Hit
from secpolicy.kube.versions import CONTROL_IDS

if TYPE_CHECKING:
    from secpolicy.resolve.kube import PodTarget


@dataclass(frozen=True)
class ControlParams:
    control: str  # a PSA CheckID, e.g. capabilities_restricted

    def __post_init__(self) -> None:
        if self.control not in CONTROL_IDS:
            raise ValueError(f"unknown PSS control {self.control!r} (known: {', '.join(sorted(CONTROL_IDS))})")


def control(target: PodTarget, params: ControlParams) -> Iterator[Hit]:
    """The control's violations, when the control is active at the target's level and version."""
    from secpolicy.kube import pss

    run = pss.active(target.level, target.version.minor).get(params.control)
    if run is None:
        return  # not part of this level at this version, or overridden by a restricted control
    label = target.pod.label
    for violation in run(target.pod):
        at = violation.at
        yield Hit(at.line, violation.message, at.column, label, violation.key, at)
