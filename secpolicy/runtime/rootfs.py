"""Paths inside a container's root filesystem, and its users and groups, read without leaving it.

``resolve`` follows symbolic links the way the container will see them:
an absolute target starts again at the rootfs, ``..`` stops at it, so no
link (``/etc/passwd -> /etc/shadow`` of the host, ``x -> ../../..``) ever
reaches outside.  This is what runc's filepath-securejoin does.

``user`` is runc's ``GetExecUser`` (libcontainer/user): a name must be in
``/etc/passwd``; a numeric uid is taken as it is, with the primary group and
home of its passwd entry when there is one (else gid 0 and ``/``); an
explicit group (name or number) replaces the primary group; without one, the
groups that list the user as a member are the supplementary groups.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MAX_LINKS = 40  # the kernel's own limit (ELOOP)
MAX_ACCOUNTS_FILE = 4 * 1024 * 1024


class RootfsError(Exception):
    pass


def resolve(root: Path, path: str) -> Path:
    """``path`` as the container sees it, as a host path that is inside ``root`` (the last part may not exist)."""
    pending = [p for p in path.split("/") if p not in ("", ".")][::-1]
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop()
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = root.joinpath(*resolved, part)
        if candidate.is_symlink():
            links += 1
            if links > MAX_LINKS:
                raise RootfsError(f"{path}: too many levels of symbolic links inside the rootfs")
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            pending.extend(p for p in reversed(target.split("/")) if p not in ("", "."))
            continue
        resolved.append(part)
    return root.joinpath(*resolved)


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: str


@dataclass(frozen=True)
class ExecUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"
    name: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _open_in_root(root: Path, name: str) -> int:
    """``name`` opened for reading inside ``root``: openat2(RESOLVE_IN_ROOT) where the kernel has it, so a link
    swapped in between cannot lead out; never blocking on a FIFO."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        from secpolicy.runtime import libc

        lc = libc.Libc()
    except OSError:  # not a machine the bundled runtime knows: resolve() alone, without following the last part
        return os.open(resolve(root, name), flags | os.O_NOFOLLOW)
    top = os.open(root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # O_PATH first: a device node planted as /etc/passwd is looked at, never opened
        found = lc.openat2(top, name.lstrip("/"), os.O_PATH, libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS)
    finally:
        os.close(top)
    try:
        if not stat.S_ISREG(os.fstat(found).st_mode):
            raise OSError(f"{name} in the rootfs is not a regular file")
        return os.open(f"/proc/self/fd/{found}", flags)
    finally:
        os.close(found)


def _lines(root: Path, name: str) -> list[list[str]]:
    try:
        fd = _open_in_root(root, name)
    except OSError:
        return []
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_ACCOUNTS_FILE:
            return []
        with os.fdopen(fd, "rb", closefd=False) as fh:
            text = fh.read(MAX_ACCOUNTS_FILE).decode("utf-8", "replace")
    except OSError:
        return []
    finally:
        os.close(fd)
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


MAX_ID = 2**31 - 1  # runc refuses ids outside 0-2147483647; setresuid(-1) would keep root


def _decimal(text: str) -> bool:
    return text.isascii() and text.isdecimal()  # str.isdigit() takes "²", which int() refuses


def _in_range(value: int, what: str) -> int:
    if value > MAX_ID:
        raise RootfsError(f"{what} {value} is outside 0-{MAX_ID}: no container can run with it")
    return value


def accounts(root: Path) -> list[Account]:
    out = []
    for parts in _lines(root, "/etc/passwd"):
        if len(parts) >= 6 and _decimal(parts[2]) and _decimal(parts[3]):
            out.append(Account(parts[0], int(parts[2]), int(parts[3]), parts[5] or "/"))
    return out


def groups(root: Path) -> list[tuple[str, int, tuple[str, ...]]]:
    out = []
    for parts in _lines(root, "/etc/group"):
        if len(parts) >= 3 and _decimal(parts[2]):
            members = tuple(m for m in (parts[3] if len(parts) > 3 else "").split(",") if m)
            out.append((parts[0], int(parts[2]), members))
    return out


def user(root: Path, spec: str, group_add: tuple[str, ...] = ()) -> ExecUser:
    """``spec`` (``user[:group]``, names or numbers) as runc resolves it in this rootfs."""
    name_part, colon, group_part = spec.partition(":")
    passwd = accounts(root)
    entry: Account | None = None
    if _decimal(name_part):
        uid = int(name_part)
        entry = next((a for a in passwd if a.uid == uid), None)
    else:
        entry = next((a for a in passwd if a.name == name_part), None)
        if entry is None:
            raise RootfsError(f"unable to find user {name_part}: no matching entries in the rootfs' /etc/passwd")
        uid = entry.uid
    gid = entry.gid if entry else 0
    home = entry.home if entry else "/"
    table = groups(root)
    extra: list[int] = []
    if colon:
        if _decimal(group_part):
            gid = int(group_part)
        else:
            found = next((g for g in table if g[0] == group_part), None)
            if found is None:
                raise RootfsError(f"unable to find group {group_part}: no matching entries in the rootfs' /etc/group")
            gid = found[1]
    elif entry is not None:
        extra = [g[1] for g in table if entry.name in g[2]]
    for wanted in group_add:
        if _decimal(wanted):
            extra.append(int(wanted))
            continue
        found = next((g for g in table if g[0] == wanted), None)
        if found is None:
            raise RootfsError(f"unable to find group {wanted} (--group-add): not in the rootfs' /etc/group")
        extra.append(found[1])
    seen: dict[int, None] = {}
    for g in extra:
        seen.setdefault(_in_range(g, "supplementary group"), None)
    _in_range(uid, f"the uid of {spec}")
    _in_range(gid, f"the gid of {spec}")
    return ExecUser(uid, gid, tuple(seen), home, entry.name if entry else None)
