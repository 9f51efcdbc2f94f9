"""The container's file system, built inside its own mount namespace without ever leaving the rootfs.

Every path inside the rootfs is opened with ``openat2(RESOLVE_IN_ROOT |
RESOLVE_NO_MAGICLINKS)`` from a descriptor of the rootfs, missing mount
points are created one component at a time through such descriptors, and
every mount lands on ``/proc/self/fd/N`` of the descriptor that was checked
(runc's answer to CVE-2021-30465 and its 2025 follow-ups).  The kernel file
systems the runtime mounts itself (proc, sysfs, devpts, mqueue and anything
under ``/dev``) must be on ordinary directories: a rootfs whose ``/proc`` or
``/dev`` is a symbolic link is refused, as runc refuses it, rather than
followed, and no other mount may land inside the container's proc or
sysfs (``fstatfs`` of the resolved target).  Masked files are covered by
the ``/dev/null`` this runtime created, checked to be the character device
1:3 before use; masked and read-only paths and the read-only root are done
before ``pivot_root``, through the host's ``/proc/self/fd``, so that
nothing the image mounts can stand in for it.

What runs only in the container's processes is left out of line coverage
(it cannot write coverage data there); tests/runtime/test_bundled.py checks
what it does, from outside.
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from pathlib import Path

from secpolicy.runtime import libc, rootfs
from secpolicy.runtime.libc import Libc
from secpolicy.runtime.spec import Container, MountSpec

_IN_ROOT = libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_MAGICLINKS
_STRICT = _IN_ROOT | libc.RESOLVE_NO_SYMLINKS
_KERNEL_FS = ("proc", "sysfs", "devpts", "mqueue", "cgroup", "cgroup2")
# runc's default devices (libcontainer/specconv AllowedDevices) and /dev symlinks
_DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8), ("urandom", 1, 9), ("tty", 5, 0))
_DEV_LINKS = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
)
_KEPT_FLAGS = (  # statvfs f_flag -> mount flag, for a remount that must not lose them
    (os.ST_NOSUID, libc.MS_NOSUID),
    (os.ST_NODEV, libc.MS_NODEV),
    (os.ST_NOEXEC, libc.MS_NOEXEC),
    (os.ST_NOATIME, libc.MS_NOATIME),
    (os.ST_NODIRATIME, libc.MS_NODIRATIME),
    (os.ST_RELATIME, libc.MS_RELATIME),
)


class FsError(OSError):
    pass


def _fd(fd: int) -> str:
    return f"/proc/self/fd/{fd}"


def _clean(path: str) -> str:
    cleaned = posixpath.normpath("/" + path)
    return "/" if cleaned in ("/", "//") else cleaned.lstrip("/")


def _strict(mount: MountSpec) -> bool:
    dev = mount.destination.rstrip("/")
    return (not mount.is_bind and mount.type in _KERNEL_FS) or dev == "/dev" or dev.startswith("/dev/")


class Filesystem:
    def __init__(self, lc: Libc) -> None:
        self.lc = lc

    def open_in(self, root: int, path: str, resolve: int, flags: int = os.O_PATH) -> int:
        relative = _clean(path)
        return self.lc.openat2(root, "." if relative == "/" else relative, flags, resolve)

    def target(self, root: int, path: str, resolve: int, *, directory: bool) -> int:
        """A descriptor of ``path`` in the rootfs, created (with its parents) when missing."""
        relative = _clean(path)
        parts = [] if relative == "/" else relative.split("/")
        try:
            fd = self.open_in(root, relative, resolve)
        except FileNotFoundError:
            if not resolve & libc.RESOLVE_NO_SYMLINKS:
                # a dangling link (/cache -> /var/cache/app): create what it points to, as runc does; every
                # step below is still opened in the root, so a link swapped meanwhile cannot lead out
                top = Path(os.readlink(_fd(root)))
                relative = str(rootfs.resolve(top, relative).relative_to(top)) or "."
                parts = [p for p in relative.split("/") if p not in ("", ".")]
            for depth in range(1, len(parts) + 1):
                try:
                    os.close(self.open_in(root, "/".join(parts[:depth]), resolve))
                    continue
                except FileNotFoundError:
                    pass
                parent = self.open_in(root, "/".join(parts[: depth - 1]) or "/", resolve, os.O_PATH | os.O_DIRECTORY)
                try:
                    if depth < len(parts) or directory:
                        os.mkdir(parts[depth - 1], 0o755, dir_fd=parent)
                    else:
                        flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC
                        os.close(os.open(parts[depth - 1], flags, 0o644, dir_fd=parent))
                finally:
                    os.close(parent)
            fd = self.open_in(root, relative, resolve)
        kind = os.fstat(fd).st_mode
        if directory and not stat.S_ISDIR(kind):
            os.close(fd)
            raise FsError(f"{path} in the rootfs is not a directory")
        if not directory and stat.S_ISDIR(kind):
            os.close(fd)
            raise FsError(f"{path} in the rootfs is a directory, and a file is mounted there")
        return fd

    def _flags_of(self, fd: int) -> int:  # pragma: no cover - in the container's process
        have = os.fstatvfs(fd).f_flag
        return sum(flag for st, flag in _KEPT_FLAGS if have & st)

    def remount(
        self, root: int, path: str, resolve: int, flags: int
    ) -> None:  # pragma: no cover - in the container's process
        fd = self.open_in(root, path, resolve)  # the new mount, not the directory under it
        try:
            kept = self._flags_of(fd)
            self.lc.mount(None, _fd(fd), None, libc.MS_BIND | libc.MS_REMOUNT | kept | flags)
        finally:
            os.close(fd)

    def mount(self, root: int, mount: MountSpec) -> None:
        resolve = _STRICT if _strict(mount) else _IN_ROOT
        try:
            self._mount(root, mount, resolve)
        except FsError:
            raise
        except OSError as exc:
            if exc.errno == errno.ELOOP and resolve == _STRICT:
                raise FsError(
                    exc.errno,
                    f"{mount.type} must be mounted on an ordinary directory, and {mount.destination} "
                    "in the rootfs is (or passes through) a symbolic link",
                ) from None
            raise FsError(exc.errno, f"mount {mount.destination}: {exc.strerror or exc}") from None

    def _kernel_fs(self, fd: int, mount: MountSpec) -> None:
        """A mount of the image's or the user's never lands inside proc or sysfs (runc: "inside /proc")."""
        if self.lc.fs_type(fd) in (libc.PROC_SUPER_MAGIC, libc.SYSFS_MAGIC):
            os.close(fd)
            raise FsError(f"{mount.destination} leads inside /proc or /sys of the container: it cannot be mounted")

    def _mount(self, root: int, mount: MountSpec, resolve: int) -> None:
        if not mount.is_bind:
            target = self.target(root, mount.destination, resolve, directory=True)
            if resolve != _STRICT:
                self._kernel_fs(target, mount)
            try:
                self.lc.mount(mount.source, _fd(target), mount.type, mount.flags, mount.data or None)
            finally:
                os.close(target)
            return
        source = os.open(mount.source, os.O_PATH | os.O_CLOEXEC)
        try:
            seen = os.readlink(_fd(source))
            if seen != posixpath.normpath(mount.source):
                raise FsError(f"bind source {mount.source} is {seen}: give its real path")
            directory = stat.S_ISDIR(os.fstat(source).st_mode)
            target = self.target(root, mount.destination, resolve, directory=directory)
            self._kernel_fs(target, mount)
            try:
                self.lc.mount(_fd(source), _fd(target), None, mount.flags & (libc.MS_BIND | libc.MS_REC))
            finally:
                os.close(target)
        finally:
            os.close(source)
        extra = mount.flags & ~(libc.MS_BIND | libc.MS_REC)
        if extra:
            self.remount(root, mount.destination, resolve, extra | (mount.flags & libc.MS_REC))

    def populate_dev(self, root: int) -> None:  # pragma: no cover - in the container's process
        dev = self.open_in(root, "dev", _STRICT, os.O_PATH | os.O_DIRECTORY)
        try:
            for name, major, minor in _DEVICES:
                os.mknod(name, 0o666 | stat.S_IFCHR, os.makedev(major, minor), dir_fd=dev)
            for name, link in _DEV_LINKS:
                os.symlink(link, name, dir_fd=dev)
        finally:
            os.close(dev)

    def console(self, root: int, terminal_side: int) -> None:  # pragma: no cover - in the container's process
        """/dev/console: the container's pty bound onto a file of our own /dev (runc's setupConsole)."""
        target = self.target(root, "/dev/console", _STRICT, directory=False)
        try:
            self.lc.mount(_fd(terminal_side), _fd(target), None, libc.MS_BIND)
        finally:
            os.close(target)

    def devnull(self, root: int) -> int:
        fd = self.open_in(root, "dev/null", _STRICT)
        info = os.fstat(fd)
        if not stat.S_ISCHR(info.st_mode) or info.st_rdev != os.makedev(1, 3):
            os.close(fd)
            raise FsError("/dev/null in the container is not the null device")
        return fd

    def prepare(self, container: Container) -> None:  # pragma: no cover - in the container's process
        """Mounts, ``pivot_root``, masked and read-only paths, a read-only root: the container's whole view."""
        lc = self.lc
        lc.mount(None, "/", None, libc.MS_REC | libc.MS_SLAVE)  # runc's default rootfsPropagation
        lc.mount(container.root, container.root, None, libc.MS_BIND | libc.MS_REC)
        root = os.open(container.root, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for mount in container.mounts:
                self.mount(root, mount)
                if mount.destination.rstrip("/") == "/dev" and not mount.is_bind:
                    self.populate_dev(root)
            try:
                os.close(self.target(root, container.cwd, _IN_ROOT, directory=True))  # runc creates it too
            except OSError as exc:
                raise FsError(f"the working directory {container.cwd}: {exc.strerror or exc}") from None
            # still through the host's /proc: nothing the image mounted can stand in for /proc/self/fd
            self._protect(root, container)
            if container.read_only:
                self.remount(root, "/", _IN_ROOT, libc.MS_RDONLY)
            os.fchdir(root)
        finally:
            os.close(root)
        lc.pivot_root(".", ".")
        lc.umount2(".", libc.MNT_DETACH)
        os.chdir("/")

    def _protect(self, root: int, container: Container) -> None:  # pragma: no cover - in the container's process
        null = self.devnull(root) if container.masked_paths else -1
        try:
            for path in container.masked_paths:
                try:
                    fd = self.open_in(root, path, _IN_ROOT)
                except FileNotFoundError:
                    continue
                try:
                    if stat.S_ISDIR(os.fstat(fd).st_mode):
                        self.lc.mount("tmpfs", _fd(fd), "tmpfs", libc.MS_RDONLY, None)
                    else:
                        self.lc.mount(_fd(null), _fd(fd), None, libc.MS_BIND)
                finally:
                    os.close(fd)
        finally:
            if null >= 0:
                os.close(null)
        for path in container.readonly_paths:
            try:
                fd = self.open_in(root, path, _IN_ROOT)
            except FileNotFoundError:
                continue
            try:
                self.lc.mount(_fd(fd), _fd(fd), None, libc.MS_BIND | libc.MS_REC)
            finally:
                os.close(fd)
            self.remount(root, path, _IN_ROOT, libc.MS_RDONLY | libc.MS_REC)
