"""Signals between the caller, the init and the container: which are forwarded, and the wait for a child.

Every catchable signal is forwarded, as runc forwards them, except SIGCHLD
(the wait itself), SIGURG, the synchronous faults (SIGSEGV, SIGBUS,
SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT), which must never be blocked,
and job control (SIGTSTP, SIGTTIN, SIGTTOU), which must keep stopping
secpolicy itself when it runs in the background of a shell.
They are blocked in the waiting process and taken with ``sigwaitinfo``, so a
signal that arrives at any moment is queued rather than lost or fatal; what
is still pending when the wait ends is drained before the mask comes back.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable

_NOT_FORWARDED = {
    signal.SIGKILL,
    signal.SIGSTOP,
    signal.SIGCHLD,
    signal.SIGURG,
    signal.SIGSEGV,
    signal.SIGBUS,
    signal.SIGFPE,
    signal.SIGILL,
    signal.SIGTRAP,
    signal.SIGSYS,
    signal.SIGABRT,
    signal.SIGTSTP,
    signal.SIGTTIN,
    signal.SIGTTOU,
}
SI_KERNEL = 0x80  # si_code of a signal the kernel sent, as the terminal's ^C
FORWARDED = frozenset(s for s in signal.valid_signals() if s not in _NOT_FORWARDED)
WATCHED = FORWARDED | {signal.SIGCHLD}


class LostChild(Exception):
    """The child was reaped by someone else (SIGCHLD ignored by whoever started us): its status is unknown."""


def exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def supervise(
    child: int, *, reap_all: bool, on_signal: Callable[[int], None] | None = None, from_kernel: bool = True
) -> int:
    """Forward the watched signals to ``child`` until it exits; reap every zombie when ``reap_all``.

    The caller has blocked ``WATCHED``.  ``from_kernel=False`` leaves out what the kernel sent (the
    terminal's ^C), for a child in our process group that got it already.  Returns the child's exit
    code (128+N for a signal).
    """
    while True:
        info = signal.sigwaitinfo(WATCHED)
        number = info.si_signo
        if number != signal.SIGCHLD and not from_kernel and info.si_code == SI_KERNEL:
            continue
        if number != signal.SIGCHLD:
            if on_signal is not None:
                on_signal(number)
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, number)
            continue
        status = None
        while True:
            try:
                pid, wait_status = os.waitpid(-1 if reap_all else child, os.WNOHANG)
            except ChildProcessError:
                if status is None:
                    raise LostChild(f"process {child} was reaped by someone else") from None
                break
            if pid == 0:
                break
            if pid == child:
                status = wait_status
                if not reap_all:
                    break
        if status is not None:
            return exit_code(status)


def drain() -> None:
    """Take whatever watched signal is still pending, so that unblocking them cannot kill this process."""
    while signal.sigtimedwait(WATCHED, 0) is not None:
        pass
