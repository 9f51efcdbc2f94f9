"""An OCI runtime-spec ``config.json`` read into what the bundled runtime does, validated before anything starts.

The bundled runtime starts from the same ``config.json`` that runc and crun
get, so the three can only differ in how they carry it out.  Validation
follows runtime-spec config.md: an rlimit type that getrlimit(2) does not
know, or a duplicate one, is an error; a capability name no kernel interface
maps is a warning (the spec says runtimes SHOULD NOT fail on it).
"""

from __future__ import annotations

import resource
from dataclasses import dataclass, field
from typing import Any

from secpolicy.runtime import caps, libc

_FLAGS = {  # runc libcontainer/specconv mountFlags: (set, clear)
    "ro": (libc.MS_RDONLY, 0),
    "rw": (0, libc.MS_RDONLY),
    "nosuid": (libc.MS_NOSUID, 0),
    "suid": (0, libc.MS_NOSUID),
    "nodev": (libc.MS_NODEV, 0),
    "dev": (0, libc.MS_NODEV),
    "noexec": (libc.MS_NOEXEC, 0),
    "exec": (0, libc.MS_NOEXEC),
    "bind": (libc.MS_BIND, 0),
    "rbind": (libc.MS_BIND | libc.MS_REC, 0),
    "strictatime": (libc.MS_STRICTATIME, 0),
    "relatime": (libc.MS_RELATIME, 0),
    "noatime": (libc.MS_NOATIME, 0),
    "nodiratime": (libc.MS_NODIRATIME, 0),
}
NAMESPACES = {
    "pid": libc.CLONE_NEWPID,
    "mount": libc.CLONE_NEWNS,
    "uts": libc.CLONE_NEWUTS,
    "ipc": libc.CLONE_NEWIPC,
    "network": libc.CLONE_NEWNET,
}


class SpecError(Exception):
    pass


MAX_ID = 2**31 - 1  # runc: "uids and gids must be in range 0-2147483647"
# what this runtime carries out; anything else in a config is refused, not silently skipped
_PROCESS_KEYS = {"terminal", "user", "args", "env", "cwd", "capabilities", "rlimits", "noNewPrivileges"}
_LINUX_KEYS = {"namespaces", "maskedPaths", "readonlyPaths"}
_TOP_KEYS = {"ociVersion", "process", "root", "hostname", "mounts", "linux", "annotations"}
_DATA_OPTIONS = ("mode=", "size=", "uid=", "gid=", "nr_inodes=", "ptmxmode=", "newinstance")
_MOUNT_TYPES = {"bind", "proc", "tmpfs", "devpts", "mqueue", "sysfs"}


def _id(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
        raise SpecError(f"{what} {value!r}: uids and gids must be in range 0-{MAX_ID}")
    return value


@dataclass(frozen=True)
class MountSpec:
    destination: str
    type: str
    source: str
    flags: int
    data: str

    @property
    def is_bind(self) -> bool:
        return bool(self.flags & libc.MS_BIND)


@dataclass
class Container:
    root: str
    read_only: bool
    args: list[str]
    env: list[str]
    cwd: str
    terminal: bool
    uid: int
    gid: int
    additional_gids: list[int]
    umask: int
    bounding: int
    effective: int
    permitted: int
    inheritable: int
    ambient: int
    no_new_privs: bool
    rlimits: list[tuple[int, int, int]]
    hostname: str | None
    mounts: list[MountSpec]
    namespaces: int
    masked_paths: list[str]
    readonly_paths: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        for item in self.env:
            if item.startswith("PATH="):
                return item[5:]
        return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def _flags(options: list[str]) -> tuple[int, str]:
    flags = 0
    data = []
    for option in options:
        if option in _FLAGS:
            on, off = _FLAGS[option]
            flags = (flags | on) & ~off
        elif option.startswith(_DATA_OPTIONS):
            data.append(option)
        else:
            raise SpecError(f"mount option {option!r} is not supported by the bundled runtime")
    return flags, ",".join(data)


def read(config: dict[str, Any]) -> Container:
    try:
        return _read(config)
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"invalid config.json: {exc!r}") from None


def _read(config: dict[str, Any]) -> Container:
    version = str(config.get("ociVersion", ""))
    if not version.startswith("1.") or len(version.split(".")) < 3:
        raise SpecError(f"ociVersion {version!r}: this runtime reads 1.x.y")
    for where, have, known in (
        ("", config, _TOP_KEYS),
        ("process.", config["process"], _PROCESS_KEYS),
        ("linux.", config.get("linux", {}), _LINUX_KEYS),
    ):
        extra = sorted(set(have) - known)
        if extra:
            raise SpecError(f"{', '.join(where + e for e in extra)}: not carried out by the bundled runtime")
    process = config["process"]
    args = [str(a) for a in process["args"]]
    if not args:
        raise SpecError("process.args is empty: there is nothing to run")
    user = process["user"]
    warnings: list[str] = []
    sets = {}
    for name in ("bounding", "effective", "permitted", "inheritable", "ambient"):
        bits, unknown = caps.mask(process.get("capabilities", {}).get(name, []))
        warnings += [f"ignoring the unknown capability {u} ({name})" for u in unknown]
        sets[name] = bits
    rlimits = []
    seen = set()
    for item in process.get("rlimits", []):
        kind = str(item["type"])
        number = getattr(resource, kind, None) if kind.startswith("RLIMIT_") else None
        if not isinstance(number, int):
            raise SpecError(f"unknown rlimit {kind!r}")
        if kind in seen:
            raise SpecError(f"rlimit {kind} is given twice")
        seen.add(kind)
        rlimits.append((number, int(item["soft"]), int(item["hard"])))
    mounts = []
    for item in config.get("mounts", []):
        destination = str(item["destination"])
        if not destination.startswith("/"):
            raise SpecError(f"mount destination {destination!r} is not absolute")
        flags, data = _flags([str(o) for o in item.get("options", [])])
        kind = str(item.get("type", "bind" if flags & libc.MS_BIND else "none"))
        if kind == "bind":
            flags |= libc.MS_BIND
        if kind not in _MOUNT_TYPES:
            raise SpecError(f"mount {destination}: type {kind!r} is not supported by the bundled runtime")
        if destination.rstrip("/") == "/proc" and kind != "proc":
            raise SpecError("/proc: only a proc file system may be mounted there")
        mounts.append(MountSpec(destination, kind, str(item.get("source", kind)), flags, data))
    namespaces = 0
    for item in config.get("linux", {}).get("namespaces", []):
        if item.get("path"):
            raise SpecError(f"joining the {item['type']} namespace at {item['path']} is not supported")
        if item["type"] not in NAMESPACES:
            raise SpecError(f"namespace {item['type']!r} is not supported by the bundled runtime")
        namespaces |= NAMESPACES[item["type"]]
    if not namespaces & libc.CLONE_NEWNS:
        raise SpecError("the bundled runtime needs a mount namespace (pivot_root would move the host's root)")
    if config.get("hostname") and not namespaces & libc.CLONE_NEWUTS:
        raise SpecError("a hostname needs a uts namespace")
    if not str(process.get("cwd", "/")).startswith("/"):
        raise SpecError(f"process.cwd {process.get('cwd')!r} must be an absolute path")
    root = config["root"]
    return Container(
        root=str(root["path"]),
        read_only=bool(root.get("readonly", False)),
        args=args,
        env=[str(e) for e in process.get("env", [])],
        cwd=str(process.get("cwd", "/")),
        terminal=bool(process.get("terminal", False)),
        uid=_id(user["uid"], "uid"),
        gid=_id(user["gid"], "gid"),
        additional_gids=[_id(g, "additional gid") for g in user.get("additionalGids", [])],
        umask=int(user.get("umask", 0o022)),
        bounding=sets["bounding"],
        effective=sets["effective"],
        permitted=sets["permitted"],
        inheritable=sets["inheritable"],
        ambient=sets["ambient"],
        no_new_privs=bool(process.get("noNewPrivileges", False)),
        rlimits=rlimits,
        hostname=config.get("hostname"),
        mounts=mounts,
        namespaces=namespaces,
        masked_paths=[str(p) for p in config.get("linux", {}).get("maskedPaths", [])],
        readonly_paths=[str(p) for p in config.get("linux", {}).get("readonlyPaths", [])],
        warnings=warnings,
    )
