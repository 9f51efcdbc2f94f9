"""The system calls the bundled runtime needs that ``os`` does not offer on Python 3.11, through ctypes.

libc is the process's own (``CDLL(None)``): no ``ctypes.util`` lookup, which
would import ``shutil`` and ``subprocess`` and run a compiler probe.  The
two calls glibc has no wrapper for (``pivot_root``, ``openat2``) go through
``syscall(2)`` with the number of this machine's architecture.  Every
failure is an ``OSError`` with the call's errno.
"""

from __future__ import annotations

import ctypes
import os

# <linux/sched.h>
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

# <linux/mount.h>
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_SLAVE = 0x80000
MS_STRICTATIME = 0x1000000
MS_RELATIME = 0x200000
MNT_DETACH = 0x2
PROC_SUPER_MAGIC = 0x9FA0
SYSFS_MAGIC = 0x62656572

# <linux/openat2.h>
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

_SYSCALLS = {  # name: (x86_64, aarch64)
    "pivot_root": (155, 41),
    "openat2": (437, 437),
}


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


class Libc:
    """libc's functions with their C signatures, loaded once per runtime (there is no module state)."""

    def __init__(self) -> None:
        machine = os.uname().machine
        if machine not in ("x86_64", "aarch64"):
            raise OSError(f"the bundled runtime knows the system calls of x86_64 and aarch64, not {machine}")
        arch = 0 if machine == "x86_64" else 1
        self._numbers = {name: numbers[arch] for name, numbers in _SYSCALLS.items()}
        lib = ctypes.CDLL(None, use_errno=True)
        self._lib = lib
        c_char_p, c_int, c_ulong, c_long = ctypes.c_char_p, ctypes.c_int, ctypes.c_ulong, ctypes.c_long
        lib.mount.argtypes = [c_char_p, c_char_p, c_char_p, c_ulong, c_char_p]
        lib.umount2.argtypes = [c_char_p, c_int]
        lib.unshare.argtypes = [c_int]
        lib.setns.argtypes = [c_int, c_int]
        lib.sethostname.argtypes = [c_char_p, ctypes.c_size_t]
        lib.prctl.argtypes = [c_int, c_ulong, c_ulong, c_ulong, c_ulong]
        lib.syscall.restype = c_long
        lib.fstatfs.argtypes = [c_int, ctypes.c_void_p]
        lib.capget.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]

    @staticmethod
    def _check(result: int, what: str) -> int:
        if result < 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")
        return result

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
        def enc(text: str | None) -> bytes | None:
            return None if text is None else os.fsencode(text)

        self._check(self._lib.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")

    def umount2(self, target: str, flags: int) -> None:
        self._check(self._lib.umount2(os.fsencode(target), flags), f"umount {target}")

    def unshare(self, flags: int) -> None:
        self._check(self._lib.unshare(flags), "unshare")

    def setns(self, fd: int, nstype: int) -> None:
        self._check(self._lib.setns(fd, nstype), "setns")

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        self._check(self._lib.sethostname(raw, len(raw)), "sethostname")

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return self._check(self._lib.prctl(option, arg2, arg3, arg4, arg5), f"prctl({option})")

    def pivot_root(self, new_root: str, put_old: str) -> None:
        number = self._numbers["pivot_root"]
        result = self._lib.syscall(number, os.fsencode(new_root), os.fsencode(put_old))
        self._check(result, "pivot_root")

    def openat2(self, dirfd: int, path: str, flags: int, resolve: int, mode: int = 0) -> int:
        """``openat2(2)``: ``RESOLVE_IN_ROOT`` keeps every symbolic link of ``path`` inside ``dirfd``."""
        how = _OpenHow(flags | os.O_CLOEXEC, mode, resolve)
        result = self._lib.syscall(
            self._numbers["openat2"],
            ctypes.c_int(dirfd),
            ctypes.c_char_p(os.fsencode(path)),
            ctypes.byref(how),
            ctypes.c_size_t(ctypes.sizeof(how)),
        )
        return self._check(result, f"open {path}")

    def fs_type(self, fd: int) -> int:
        """``fstatfs(2)``'s f_type: which file system ``fd`` is on (os.fstatvfs does not say)."""
        buffer = (ctypes.c_long * 16)()  # struct statfs is 120 bytes on 64-bit Linux; f_type comes first
        self._check(self._lib.fstatfs(fd, buffer), "fstatfs")
        return buffer[0] & 0xFFFFFFFF

    def capget(self, header: ctypes.Array[ctypes.c_uint32], data: ctypes.Array[ctypes.c_uint32]) -> None:
        self._check(self._lib.capget(header, data), "capget")

    def capset(self, header: ctypes.Array[ctypes.c_uint32], data: ctypes.Array[ctypes.c_uint32]) -> None:
        self._check(self._lib.capset(header, data), "capset")
