"""The policy gate: the resolved context judged before anything starts (``run:`` in secpolicy.yaml).

``require-non-root`` (default true) refuses uid 0 and a user that cannot be
resolved, exactly when lint's DF101/K8S201 report it; ``allow-privileged``
(default false); ``allowed-capabilities`` (default: the runtime's default
set) bounds what the container may hold; ``allowed-bind-mounts`` (default
none) lists the host paths ``-v`` may mount (a path and everything below it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secpolicy.resolve import capabilities
from secpolicy.runtime.plan import RunPlan


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message} ({self.fix})"


def judge(
    plan: RunPlan, policy: Mapping[str, Any], runtime: str = "docker", *, rule_for_root: str = "DF101"
) -> list[Violation]:
    out = []
    context = plan.context
    user = context.user
    if policy.get("require-non-root", True) and (not user.known or user.is_root):
        message = (
            f"the container may run as root: {user.reason}"
            if not user.known
            else f"the container runs as root ({user.source})"
        )
        out.append(Violation(rule_for_root, message, "give --user UID[:GID], or USER in the image"))
    if context.start_error and not any(v.rule == rule_for_root for v in out):
        out.append(Violation("K8S207", context.start_error, "set runAsUser, or a numeric USER in the image"))
    if context.privileged and not policy.get("allow-privileged", False):
        out.append(
            Violation(
                "K8S002",
                "--privileged gives every capability and every device",
                "drop --privileged; add the one capability needed",
            )
        )
    allowed = {
        capabilities.normalise(c) for c in policy.get("allowed-capabilities", capabilities.RUNTIME_DEFAULTS[runtime])
    }
    extra = sorted(set(context.capabilities.bounding) - allowed)
    if extra and not (context.privileged and policy.get("allow-privileged", False)):
        out.append(
            Violation(
                "K8S106",
                f"the container would hold {', '.join(extra)}, which the policy does not allow",
                f"--cap-drop {','.join(extra)}, or list them in run.allowed-capabilities",
            )
        )
    sources = [Path(p) for p in policy.get("allowed-bind-mounts", [])]
    for mount in plan.mounts:
        if mount.source is None:
            continue
        host = Path(mount.source).resolve()
        if not any(host == s.resolve() or s.resolve() in host.parents for s in sources):
            out.append(
                Violation(
                    "RUN001",
                    f"-v {mount.source}:{mount.destination} mounts a host path the policy does not allow",
                    "list it in run.allowed-bind-mounts",
                )
            )
    return out
