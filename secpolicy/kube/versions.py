"""Pod Security Standards versions (``v1.N`` / ``latest``), light enough for every start-up to import."""

from __future__ import annotations

import re
from dataclasses import dataclass

NEWEST = 35  # the newest minor version pod-security-admission v0.36.2 defines checks for
# PSA's CheckIDs (kube/pss.py implements each; a test keeps the two in step)
CONTROL_IDS = frozenset(
    {
        "hostNamespaces",
        "privileged",
        "capabilities_baseline",
        "hostPathVolumes",
        "hostPorts",
        "appArmorProfile",
        "seLinuxOptions",
        "procMount",
        "seccompProfile_baseline",
        "sysctls",
        "windowsHostProcess",
        "hostProbesAndHostLifecycle",
        "restrictedVolumes",
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "runAsUser",
        "seccompProfile_restricted",
        "capabilities_restricted",
        "procMount_restricted",
    }
)


@dataclass(frozen=True)
class Version:
    minor: int  # Kubernetes 1.<minor>

    def __str__(self) -> str:
        return f"v1.{self.minor}"


class VersionError(ValueError):
    pass


_VERSION = re.compile(r"v?1\.(0|[1-9][0-9]*)")


def parse_version(text: str) -> Version:
    """``v1.30``, ``1.30`` or ``latest``; versions newer than PSA knows clamp to the newest, as PSA does."""
    text = text.strip()
    if text == "latest":
        return Version(NEWEST)
    match = _VERSION.fullmatch(text)
    if match is None:
        raise VersionError(f"invalid PSS version {text!r}: use v1.N (e.g. v1.30) or latest")
    return Version(min(int(match.group(1)), NEWEST))
