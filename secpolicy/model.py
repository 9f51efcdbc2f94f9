"""The shared data model: findings, severities, effective security contexts."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """Ordered so that ``>=`` means "at least as serious"."""

    NOTE = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or note)") from None


@dataclass(frozen=True)
class Provenance:
    """Where a value came from: a file, line (and column, and for YAML the field path), or a description
    such as "runtime default"."""

    detail: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None

    @property
    def location(self) -> Location | None:
        if self.path is None:
            return None
        return Location(self.path, self.line or 1, self.column or 1, field=self.field)

    def __str__(self) -> str:
        if self.path is not None and self.line is not None and self.field:
            return f"{self.path}:{self.line}:{self.field}"
        if self.path is not None and self.line is not None:
            return f"{self.path}:{self.line} ({self.detail})" if self.detail else f"{self.path}:{self.line}"
        return self.detail


# Names that are the superuser whatever /etc/passwd says: Linux root (names
# are case-sensitive there: "ROOT" is another user), and the Windows container
# administrator, whose account names are case-insensitive
# (kubernetes/kubernetes#92355).
WINDOWS_ADMIN = "containeradministrator"
WINDOWS_USERS = frozenset({WINDOWS_ADMIN, "containeruser"})


def is_root_name(name: str | None) -> bool:
    return name is not None and (name == "root" or name.lower() == WINDOWS_ADMIN)


@dataclass(frozen=True)
class EffectiveUser:
    """The user a container starts as.

    ``known`` is False when the value could not be resolved statically (an
    unknown base image, a variable without a value): such a user is never
    treated as non-root.  ``spec`` is the text that decided it (``"app:0"``).
    """

    uid: int | None
    gid: int | None
    name: str | None
    known: bool
    source: Provenance
    spec: str | None = None
    group: str | None = None
    groups: tuple[int, ...] = ()
    reason: str | None = None

    @property
    def is_root(self) -> bool:
        return self.known and (self.uid == 0 or is_root_name(self.name))

    @property
    def explicit_root_group(self) -> bool:
        return self.group is not None and (self.gid == 0 or self.group == "root")

    def to_json(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "gid": self.gid,
            "groups": list(self.groups),
            "name": self.name,
            "known": self.known,
            "source": str(self.source),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Capabilities:
    """Capability sets after exec; ``None`` where the user is unknown (``resolve/capabilities.py`` computes them)."""

    bounding: tuple[str, ...]
    effective: tuple[str, ...] | None
    permitted: tuple[str, ...] | None
    inheritable: tuple[str, ...]
    ambient: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        def seq(v: tuple[str, ...] | None) -> list[str] | None:
            return None if v is None else sorted(v)

        return {
            "bounding": seq(self.bounding),
            "effective": seq(self.effective),
            "permitted": seq(self.permitted),
            "inheritable": seq(self.inheritable),
            "ambient": seq(self.ambient),
        }


@dataclass(frozen=True)
class EffectiveContext:
    """Everything that decides a container's privileges, with provenance."""

    kind: str
    path: str
    target: str
    user: EffectiveUser
    capabilities: Capabilities
    privileged: bool
    no_new_privs: bool
    run_as_non_root: bool | None
    read_only_rootfs: bool
    seccomp: str
    provenance: dict[str, Provenance] = field(default_factory=dict)
    host_namespaces: tuple[str, ...] = ()  # network, pid, ipc shared with the host
    start_error: str | None = None  # why the kubelet will refuse to start it (runAsNonRoot verification)
    selinux: str | None = None  # the effective seLinuxOptions ("type=spc_t level=s0:c1"), None: the runtime's
    apparmor: str | None = None  # the effective AppArmor profile
    proc_mount: str | None = None  # Default or Unmasked (containers)
    user_namespace: bool = False  # hostUsers: false: uid 0 inside maps to an unprivileged uid on the host

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": self.path,
            "target": self.target,
            "user": self.user.to_json(),
            "capabilities": self.capabilities.to_json(),
            "privileged": self.privileged,
            "no_new_privs": self.no_new_privs,
            "run_as_non_root": self.run_as_non_root,
            "read_only_rootfs": self.read_only_rootfs,
            "seccomp": self.seccomp,
            "host_namespaces": list(self.host_namespaces),
            "start_error": self.start_error,
            "selinux": self.selinux,
            "apparmor": self.apparmor,
            "proc_mount": self.proc_mount,
            "user_namespace": self.user_namespace,
            "provenance": {k: str(v) for k, v in self.provenance.items()},
        }


@dataclass(frozen=True)
class Location:
    """Where something is: a file, a line and column range, and for YAML the field path."""

    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    field: str | None = None  # e.g. spec.containers[0].image


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    path: str
    line: int
    column: int = 1
    target: str | None = None
    suppressed: bool = False
    suppression: str | None = None
    end_line: int | None = None  # None: the end of ``line``
    end_column: int | None = None
    key: str = ""  # the finding's identity within its file, stable when lines move (baselines, fingerprints)
    field: str | None = None  # in a manifest, the field path (spec.template.spec.containers[0].image)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity.label,
            "message": self.message,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "target": self.target,
            "suppressed": self.suppressed,
            "end_line": self.end_line if self.end_line is not None else self.line,
            "end_column": self.end_column if self.end_column is not None else self.column,
            "key": self.key,
            "field": self.field,
        }
        if self.suppressed:
            out["suppression"] = {"reason": self.suppression}
        return out
