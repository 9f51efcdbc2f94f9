"""The run's decision as an OCI runtime-spec ``config.json``, for runc or crun (and printed by ``--dry-run``).

Capabilities as Docker hands them to runc: the bounding set, and for root
the same as permitted and effective (what uid 0 gets at exec anyway); for
any other user only what the decision raises as ambient (``--ambient``,
listed as inheritable too, since the kernel raises an ambient capability
only from the inheritable set).  A capability the host's own bounding set
lacks is left out with a note: asking for it would make runc fail with
EPERM, and the runtime-spec says not to fail on it.  Docker's masked
and read-only paths, its default mounts, a private pid, ipc, uts and mount
namespace, and a network namespace unless ``--network host``.
"""

from __future__ import annotations

import os
from typing import Any

from secpolicy.runtime.plan import RunPlan

OCI_VERSION = "1.0.2"
# moby oci/defaults.go: DefaultLinuxSpec
MASKED_PATHS = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
_MOUNTS: list[dict[str, Any]] = [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {
        "destination": "/dev",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    {
        "destination": "/dev/pts",
        "type": "devpts",
        "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
    },
    {
        "destination": "/dev/shm",  # noqa: S108 - a path inside the container
        "type": "tmpfs",
        "source": "shm",
        "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
    },
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
]


def host_bounding() -> frozenset[str] | None:
    """The capabilities this host's own bounding set still has (None off Linux): no container can get more."""
    from secpolicy.resolve.capabilities import ALL_CAPABILITIES

    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            line = next((x for x in fh if x.startswith("CapBnd:")), None)
    except OSError:
        return None
    if line is None:
        return None
    bits = int(line.split()[1], 16)
    return frozenset(name for n, name in enumerate(ALL_CAPABILITIES) if bits >> n & 1)


def config(
    plan: RunPlan, *, terminal: bool = False, host: frozenset[str] | None = None, notes: list[str] | None = None
) -> dict[str, Any]:
    """The OCI config of ``plan``; capabilities outside ``host`` (the host's bounding set) are left out with a note."""
    context = plan.context
    caps = context.capabilities
    user = plan.exec_user
    if user is None:
        raise ValueError("the user is not resolved: the gate refuses this run")

    def grantable(names: tuple[str, ...] | None) -> list[str]:
        return [f"CAP_{c}" for c in (names or ()) if host is None or c in host]

    lost = sorted(set(caps.bounding) - host) if host is not None else []
    if lost and notes is not None:
        notes.append(f"this host's bounding set lacks {', '.join(lost)}: the container cannot hold it")
    bounding = grantable(caps.bounding)
    held = grantable(caps.effective)
    ambient = grantable(caps.ambient)
    namespaces = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    if plan.network == "none":
        namespaces.append({"type": "network"})
    mounts = [dict(m) for m in _MOUNTS]
    for mount in plan.mounts:
        if mount.source is None:
            mounts.append(
                {
                    "destination": mount.destination,
                    "type": "tmpfs",
                    "source": "tmpfs",
                    "options": ["nosuid", "nodev", "mode=1777"],
                }
            )
        else:
            options = ["rbind", "ro" if mount.read_only else "rw"]
            source = os.path.realpath(mount.source)  # what the gate judged, and what the runtime checks it opens
            mounts.append({"destination": mount.destination, "type": "bind", "source": source, "options": options})
    process: dict[str, Any] = {
        "terminal": terminal,
        "user": {
            "uid": user.uid,
            "gid": user.gid,
            **({"additionalGids": list(user.additional_gids)} if user.additional_gids else {}),
        },
        "args": list(plan.args),
        "env": [f"{k}={v}" for k, v in plan.env.items()],
        "cwd": plan.cwd,
        "capabilities": {
            "bounding": bounding,
            "effective": held,
            "permitted": held,
            # a capability is raised as ambient only from the inheritable set: both, or neither (as Podman)
            "inheritable": ambient,
            "ambient": ambient,
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": context.no_new_privs,
    }
    linux: dict[str, Any] = {"namespaces": namespaces}
    if not context.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
    return {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": str(plan.rootfs.resolve()), "readonly": context.read_only_rootfs},
        "hostname": plan.hostname,
        "mounts": mounts,
        "linux": linux,
    }
