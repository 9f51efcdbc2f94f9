"""The container process's capabilities and prctl flags, set exactly as runc and crun set them.

Masks are exact 64-bit integers and every loop runs up to the kernel's own
``/proc/sys/kernel/cap_last_cap``, so a capability newer than our name table
is still dropped from the bounding set.  python-prctl (the ``run`` extra)
serves the plain flags (keep-caps, no_new_privs, the parent-death signal,
dumpable); it has no ambient capabilities, validates securebits against an
old list and knows capabilities only up to 40, so the bounding set,
``capset`` and the ambient set go through ctypes, and so do the flags when
python-prctl is not installed.
"""

from __future__ import annotations

import ctypes
import errno
from collections.abc import Iterable
from types import ModuleType

from secpolicy.resolve.capabilities import ALL_CAPABILITIES
from secpolicy.runtime.libc import Libc

try:
    import prctl  # the optional "run" extra

    PYTHON_PRCTL: ModuleType | None = prctl
except ImportError:  # pragma: no cover - depends on what is installed
    PYTHON_PRCTL = None

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_SET_NAME = 15
PR_CAPBSET_READ = 23
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

NUMBERS = {name: number for number, name in enumerate(ALL_CAPABILITIES)}


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", "rb") as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return len(ALL_CAPABILITIES) - 1


def mask(names: Iterable[str]) -> tuple[int, list[str]]:
    """The mask of ``CAP_*`` (or bare) names, and the names no kernel interface maps (the spec: warn, not fail)."""
    out = 0
    unknown = []
    for name in names:
        bare = name.upper().removeprefix("CAP_")
        if bare in NUMBERS:
            out |= 1 << NUMBERS[bare]
        else:
            unknown.append(name)
    return out, unknown


def names(bits: int) -> list[str]:
    return [ALL_CAPABILITIES[n] if n < len(ALL_CAPABILITIES) else str(n) for n in range(64) if bits >> n & 1]


class Capabilities:
    """The calls, bound to one libc and (when installed) python-prctl."""

    def __init__(self, libc: Libc, prctl_module: ModuleType | None = PYTHON_PRCTL) -> None:
        self.libc = libc
        self.prctl = prctl_module

    def drop_bounding(self, keep: int, last: int) -> None:
        for number in range(last + 1):
            if not keep >> number & 1:
                try:
                    self.libc.prctl(PR_CAPBSET_DROP, number)
                except OSError as exc:
                    if exc.errno != errno.EINVAL:  # a capability this kernel does not have
                        raise

    def bounding(self, last: int) -> int:
        return sum(1 << n for n in range(last + 1) if self.libc.prctl(PR_CAPBSET_READ, n) == 1)

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """One ``capset(2)`` with all three sets, so E is never outside P in between."""
        header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)(
            effective & 0xFFFFFFFF,
            permitted & 0xFFFFFFFF,
            inheritable & 0xFFFFFFFF,
            effective >> 32,
            permitted >> 32,
            inheritable >> 32,
        )
        self.libc.capset(header, data)

    def current(self) -> tuple[int, int, int]:
        header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (ctypes.c_uint32 * 6)()
        self.libc.capget(header, data)
        return data[0] | data[3] << 32, data[1] | data[4] << 32, data[2] | data[5] << 32

    def set_ambient(self, bits: int, last: int) -> list[int]:
        """Clear the ambient set, then raise each capability of ``bits``; the ones the kernel refuses."""
        self.libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
        refused = []
        for number in range(last + 1):
            if bits >> number & 1:
                try:
                    self.libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, number)
                except OSError:  # not in both permitted and inheritable: runc and crun go on without it
                    refused.append(number)
        return refused

    def set_keepcaps(self, on: bool) -> None:
        if self.prctl is not None:
            self.prctl.set_keepcaps(on)
        else:
            self.libc.prctl(PR_SET_KEEPCAPS, int(on))

    def set_no_new_privs(self) -> None:
        if self.prctl is not None:
            self.prctl.set_no_new_privs(1)
        else:
            self.libc.prctl(PR_SET_NO_NEW_PRIVS, 1)

    def set_pdeathsig(self, signal_number: int) -> None:
        if self.prctl is not None:
            self.prctl.set_pdeathsig(signal_number)
        else:
            self.libc.prctl(PR_SET_PDEATHSIG, signal_number)

    def set_not_dumpable(self) -> None:
        if self.prctl is not None:
            self.prctl.set_dumpable(False)
        else:
            self.libc.prctl(PR_SET_DUMPABLE, 0)

    def set_name(self, name: str) -> None:
        if self.prctl is not None:
            self.prctl.set_name(name)
        else:
            buffer = ctypes.create_string_buffer(name.encode()[:15])
            self.libc.prctl(PR_SET_NAME, ctypes.addressof(buffer))
