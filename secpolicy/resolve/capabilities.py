"""Linux capability sets: the runtimes' defaults, add/drop, privileged, and what a process holds after exec.

* Default sets are data, per runtime: Docker/moby and containerd 14 (moby
  ``oci/caps/defaults.go``, containerd ``pkg/oci/spec.go`` ``defaultUnixCaps``),
  CRI-O 9 (``internal/config/capabilities/capabilities_linux.go``).
* add/drop as containerd's ``WithCapabilities`` applies them: ``ALL`` in add
  gives every capability, ``ALL`` in drop clears the set, then the single adds,
  then the single drops; names in any case; ``CAP_`` is taken by Docker and
  CRI-O, while containerd prefixes it a second time (the name then does nothing).
* ``privileged`` is every capability.
* After exec without file capabilities, uid 0 holds its bounding set as
  permitted and effective; any other uid holds only its ambient set
  (within the bounding set).  Runtimes start with an empty inheritable set.
"""

from __future__ import annotations

from collections.abc import Iterable

from secpolicy.model import Capabilities, EffectiveUser

# CAP_CHOWN (0) ... CAP_CHECKPOINT_RESTORE (40), without the CAP_ prefix
ALL_CAPABILITIES: tuple[str, ...] = (
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
)
_DOCKER = (
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
)
_KNOWN = frozenset(ALL_CAPABILITIES)
RUNTIME_DEFAULTS: dict[str, tuple[str, ...]] = {
    "docker": _DOCKER,
    "containerd": _DOCKER,
    "cri-o": ("CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "SETGID", "SETUID", "SETPCAP", "NET_BIND_SERVICE", "KILL"),
}
RUNTIME_NAMES = {"docker": "Docker/containerd", "containerd": "containerd", "cri-o": "CRI-O"}


# Runtimes that take a name with its CAP_ prefix (Docker's --cap-add, CRI-O's toCAPPrefixed).  containerd's
# CRI WithCapabilities always prepends "CAP_" to the upper-cased name, so "CAP_SYS_ADMIN" becomes the unknown
# "CAP_CAP_SYS_ADMIN", which runc ignores: there a prefixed name does nothing.
_PREFIX_OK = frozenset({"docker", "cri-o"})


def normalise(name: str, runtime: str = "docker") -> str:
    """The capability ``name`` means to ``runtime``, without ``CAP_``; "" for a name it does not know."""
    upper = name.strip().upper()
    if upper.startswith("CAP_"):
        if runtime not in _PREFIX_OK:
            return ""
        upper = upper[4:]
    return upper if upper == "ALL" or upper in _KNOWN else ""


def bounding_set(
    default: Iterable[str],
    add: Iterable[str] = (),
    drop: Iterable[str] = (),
    *,
    privileged: bool = False,
    runtime: str = "docker",
) -> tuple[str, ...]:
    """The capability bounding set the container starts with, sorted (unknown names are ignored, as runc does)."""
    if privileged:
        return tuple(sorted(ALL_CAPABILITIES))
    adds = {normalise(c, runtime) for c in add} - {""}
    drops = {normalise(c, runtime) for c in drop} - {""}
    caps = {normalise(c) for c in default}
    if "ALL" in adds:
        caps = set(ALL_CAPABILITIES)
    if "ALL" in drops:
        caps = set()
    caps |= adds - {"ALL"}
    caps -= drops - {"ALL"}
    return tuple(sorted(caps))


def held(bounding: tuple[str, ...], user: EffectiveUser, ambient: Iterable[str] = ()) -> Capabilities:
    """The sets after exec: uid 0 holds the bounding set, another uid its ambient set; unknown user, unknown sets."""
    amb = tuple(sorted({normalise(c) for c in ambient} & set(bounding)))
    if not user.known or (user.uid is None and not user.is_root):
        have: tuple[str, ...] | None = None
    else:
        have = bounding if user.is_root else amb
    return Capabilities(tuple(sorted(bounding)), have, have, (), amb)
