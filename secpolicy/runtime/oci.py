"""The run's decision as an OCI runtime-spec ``config.json``, for runc or crun (and printed by ``--dry-run``).

Capabilities as Docker hands them to runc: the bounding set, and for root
the same as permitted and effective (what uid 0 gets at exec anyway); for
any other user only what the decision raises as ambient.  Docker's masked
and read-only paths, its default mounts, a private pid, ipc, uts and mount
namespace, and a network namespace unless ``--network host``.
"""

from __future__ import annotations

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


def config(plan: RunPlan, *, terminal: bool = False) -> dict[str, Any]:
    context = plan.context
    caps = context.capabilities
    user = plan.exec_user
    if user is None:
        raise ValueError("the user is not resolved: the gate refuses this run")
    bounding = [f"CAP_{c}" for c in caps.bounding]
    held = [f"CAP_{c}" for c in (caps.effective or ())]
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
            mounts.append(
                {"destination": mount.destination, "type": "bind", "source": mount.source, "options": options}
            )
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
            "inheritable": [],
            "ambient": [f"CAP_{c}" for c in caps.ambient],
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
