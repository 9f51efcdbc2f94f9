"""The bundled runtime: the same ``config.json`` runc gets, carried out by this Python process.

Processes::

    secpolicy run (host)        forwards signals to the init, waits for it, returns its status
     └─ init (pid 1)            new pid namespace only; not dumpable; chroot into an empty directory;
         │                      reaps every zombie, forwards signals to the command, exits with its status
         └─ container process   new mount, uts, ipc (and net) namespaces; the rootfs (fs.py);
                                then the credentials in runc's order; exec

The init never enters the container's mount namespace (``pivot_root`` would
move its root too) and keeps nothing of the host reachable: its root and
working directory are an empty directory, and being non-dumpable it cannot
be opened through ``/proc/1/{exe,root,fd}`` by a container without
CAP_SYS_PTRACE.  When it exits the kernel kills whatever is left in the
namespace, so no container process outlives it to reopen the host
interpreter for writing (CVE-2019-5736).

No module is imported after the fork: both children lock the import system
first, so a ``warnings.py`` or ``encodings`` planted in the rootfs on the
interpreter's path can never run.  The command is looked up along the
container's PATH by this module, never by ``os.execvp`` (which imports).

A failure before exec reaches the caller through a close-on-exec pipe as
``CODE:message``: 125 for the runtime, 126 for a command that cannot be
run, 127 for one that is not there.

What runs only in the container's processes is left out of line coverage
(it cannot write coverage data there); tests/runtime/test_bundled.py checks
what it does, from outside.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import posixpath
import resource
import signal
import stat
import sys
import termios
import threading
import tty as terminal
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NoReturn

from secpolicy.runtime import caps, libc
from secpolicy.runtime.caps import Capabilities
from secpolicy.runtime.fs import Filesystem
from secpolicy.runtime.libc import Libc
from secpolicy.runtime.spec import Container

FORWARDED = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
)
_WATCHED = {*FORWARDED, signal.SIGCHLD}
_UNTOUCHABLE = {signal.SIGKILL, signal.SIGSTOP}
_ALL_FDS = 2**31 - 1  # close_range(2) takes the whole range in one call


class StartError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class _NoImports:
    """The only meta path finder once inside the container: every import fails."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        raise ImportError(f"secpolicy run: no module may be imported inside the container ({name})")


def lock_imports() -> None:
    sys.meta_path[:] = [_NoImports()]
    sys.path_hooks[:] = []
    sys.path_importer_cache.clear()
    sys.path[:] = []


def exit_code(status: int) -> int:
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


@dataclass(frozen=True)
class _Start:
    container: Container
    report: int  # the write end of the pipe to the caller
    tty: int  # the pty's terminal side, or -1
    empty: str  # the init's root
    interpreter: tuple[int, int]  # (st_dev, st_ino) of the host interpreter, never run in the container
    last_cap: int


class Runtime:
    def __init__(self, lc: Libc | None = None, prctl_module: ModuleType | None = caps.PYTHON_PRCTL) -> None:
        self.lc = lc or Libc()
        self.caps = Capabilities(self.lc, prctl_module)
        self.fs = Filesystem(self.lc)

    def run(self, container: Container, *, warn: Callable[[str], None] | None = None) -> int:
        """Start the container, pass stdio (or a pty) through, and return its exit status (128+N for a signal)."""
        warn = warn or _stderr
        for message in container.warnings:
            warn(message)
        host = os.stat(sys.executable)
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        master = tty = -1
        if container.terminal:
            master, tty = os.openpty()
            os.set_inheritable(master, False)
            _copy_winsize(0, tty)
        empty = _empty_directory()
        start = _Start(container, write_end, tty, empty, (host.st_dev, host.st_ino), caps.last_cap())
        sys.stdout.flush()
        sys.stderr.flush()
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            pid = self._fork_init(start)
            os.close(write_end)
            write_end = -1
            if tty >= 0:
                os.close(tty)
                tty = -1
            message = _read_all(read_end)
            copier = _Terminal(master).start() if master >= 0 else None
            status = self._supervise(pid, reap_all=False, winsize_to=master)
            if copier is not None:
                copier.finish()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            for fd in (read_end, write_end, tty, master):
                if fd >= 0:
                    os.close(fd)
            os.rmdir(empty)
        if message:
            warn(message.partition(":")[2])
        return status

    def _fork_init(self, start: _Start) -> int:
        own = pid = -1
        if start.container.namespaces & libc.CLONE_NEWPID:
            own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            self.lc.unshare(libc.CLONE_NEWPID)  # for the next child only
        try:
            pid = os.fork()
            if pid == 0:
                self._init(start)
        finally:
            if own >= 0 and pid != 0:
                self.lc.setns(own, libc.CLONE_NEWPID)  # this process's children are ours again
                os.close(own)
        return pid

    def _supervise(self, child: int, *, reap_all: bool, winsize_to: int = -1) -> int:
        """Forward the watched signals to ``child`` until it exits; reap every zombie when ``reap_all``."""
        while True:
            number = signal.sigwaitinfo(_WATCHED).si_signo
            if number != signal.SIGCHLD:
                if number == signal.SIGWINCH and winsize_to >= 0:
                    _copy_winsize(0, winsize_to)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, number)
                continue
            status = None
            while True:
                try:
                    pid, wait_status = os.waitpid(-1 if reap_all else child, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                if pid == child:
                    status = wait_status
                    if not reap_all:
                        break
            if status is not None:
                return exit_code(status)

    def _init(self, start: _Start) -> NoReturn:  # pragma: no cover - in the container's process
        """Pid 1 of the container's pid namespace."""
        try:
            lock_imports()
            self.caps.set_pdeathsig(signal.SIGKILL)
            self.caps.set_not_dumpable()
            self.caps.set_name("secpolicy-init")
            child = os.fork()
            if child == 0:
                self._container(start)
            os.closerange(3, _ALL_FDS)  # the caller's descriptors, the report pipe, the pty: nothing stays
            os.chroot(start.empty)
            os.chdir("/")
            os._exit(self._supervise(child, reap_all=True))
        except BaseException as exc:  # whatever it is, the caller hears of it
            _report(start.report, 125, f"the init failed: {exc}")

    def _container(self, start: _Start) -> NoReturn:  # pragma: no cover - in the container's process
        c = start.container
        step = "the namespaces"
        try:
            _close_all_but(start.report, start.tty)  # nothing the caller holds is reachable, not even by a path
            self.caps.set_pdeathsig(signal.SIGKILL)
            os.setsid()
            if start.tty >= 0:
                fcntl.ioctl(start.tty, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(start.tty, fd)
            self.lc.unshare(c.namespaces & ~libc.CLONE_NEWPID)
            step = "the root file system"
            os.umask(0)
            self.fs.prepare(c)
            step = "the host name"
            if c.hostname and c.namespaces & libc.CLONE_NEWUTS:
                self.lc.sethostname(c.hostname)
            step = "the resource limits"
            for kind, soft, hard in c.rlimits:
                resource.setrlimit(kind, (soft, hard))
            step = "the credentials"
            self.caps.drop_bounding(c.bounding, start.last_cap)
            self.caps.set_keepcaps(True)
            os.setgroups(c.additional_gids)
            os.setresgid(c.gid, c.gid, c.gid)
            os.setresuid(c.uid, c.uid, c.uid)
            step = f"the working directory {c.cwd}"
            os.chdir(c.cwd)
            if not os.getcwd().startswith("/"):
                raise StartError(125, f"the working directory {c.cwd} is outside the container")
            step = "the capabilities"
            self.caps.set_keepcaps(False)
            self.caps.capset(c.effective, c.permitted, c.inheritable)
            self.caps.set_ambient(c.ambient, start.last_cap)
            if c.no_new_privs:
                self.caps.set_no_new_privs()
            self.caps.set_pdeathsig(signal.SIGKILL)  # a credential change cleared it
            step = "the command"
            program = find_program(c.args[0], c.path, start.interpreter)
            env = dict(item.partition("=")[::2] for item in c.env)
            os.umask(c.umask)
            for number in range(1, signal.NSIG):
                if number not in _UNTOUCHABLE:
                    with contextlib.suppress(OSError, ValueError):  # the C library's own real-time signals
                        signal.signal(number, signal.SIG_DFL)
            os.closerange(3, _ALL_FDS)
            signal.pthread_sigmask(signal.SIG_SETMASK, ())
        except StartError as exc:
            _report(start.report, exc.code, str(exc))
        except BaseException as exc:  # reported; the container never starts
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _report(start.report, 125, f"cannot set up {step}: {detail}")
        try:
            os.execve(program, c.args, env)  # noqa: S606 - the container's command, inside the container
        except OSError as exc:
            os.write(2, f"secpolicy: cannot run {c.args[0]}: {exc.strerror}\n".encode())
            os._exit(127 if exc.errno == 2 else 126)
        os._exit(126)


def find_program(name: str, path: str, interpreter: tuple[int, int]) -> str:
    """``name`` along ``path`` inside the container, as execvp finds it; never the host's interpreter."""
    candidates = [name] if "/" in name else [posixpath.join(d or ".", name) for d in path.split(":")]
    denied = None
    for candidate in candidates:
        try:
            info = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode) or not os.access(candidate, os.X_OK):
            denied = denied or candidate
            continue
        _refuse_runtime(candidate, info, interpreter)
        return candidate
    if denied is not None:
        raise StartError(126, f"{name}: permission denied ({denied} is not an executable file)")
    raise StartError(127, f"{name}: not found in the container (PATH={path})")


def _refuse_runtime(candidate: str, info: os.stat_result, interpreter: tuple[int, int]) -> None:
    """The host interpreter, through ``/proc/self/exe`` or a ``#!`` line, is never the container's program."""
    if (info.st_dev, info.st_ino) == interpreter or posixpath.realpath(candidate).startswith("/proc/"):
        raise StartError(126, f"{candidate}: refusing to run the runtime's own interpreter or a /proc path")
    try:
        fd = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return  # executable but unreadable: the kernel decides
    try:
        head = os.read(fd, 256)
    finally:
        os.close(fd)
    if head.startswith(b"#!"):
        line = head[2:].split(b"\n", 1)[0].strip()
        interp = os.fsdecode(line.split()[0]) if line else ""
        if interp.startswith("/proc/") or posixpath.realpath(interp).startswith("/proc/"):
            raise StartError(126, f"{candidate}: refusing a #! interpreter under /proc ({interp})")
        try:
            target = os.stat(interp)
        except OSError:
            return
        if (target.st_dev, target.st_ino) == interpreter:
            raise StartError(126, f"{candidate}: refusing a #! line that runs the runtime's own interpreter")


def _empty_directory() -> str:
    """A new private directory for the init's root: mkdtemp's guarantees (mkdir fails on anything existing,
    mode 0700, an unguessable name) without loading tempfile, shutil and random on every start."""
    base = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 - the same default tempfile uses
    path = posixpath.join(base, f"secpolicy-init-{os.urandom(8).hex()}")
    os.mkdir(path, 0o700)
    return path


def _close_all_but(*keep: int) -> None:
    """Close every descriptor above 2 except ``keep`` (CVE-2024-21626: a leaked one reached by /proc/self/fd)."""
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _ALL_FDS)


def _report(fd: int, code: int, message: str) -> NoReturn:
    try:
        os.write(fd, f"{code}:{message}".encode(errors="replace"))
    finally:
        os._exit(code)


def _read_all(fd: int) -> str:
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _stderr(message: str) -> None:
    sys.stderr.write(f"secpolicy: {message}\n")


def _copy_winsize(source: int, target: int) -> None:
    try:
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)
    except OSError:
        pass  # stdin is not a terminal


class _Terminal:
    """Copies stdin to the pty and the pty to stdout; stdin in raw mode while the container runs."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.saved: list[Any] | None = None
        self.output = threading.Thread(target=self._pump, args=(master, 1), daemon=True)
        self.input = threading.Thread(target=self._pump, args=(0, master), daemon=True)

    def start(self) -> _Terminal:
        if os.isatty(0):
            self.saved = termios.tcgetattr(0)
            terminal.setraw(0)
        self.output.start()
        self.input.start()
        return self

    def finish(self) -> None:
        self.output.join(timeout=5)
        if self.saved is not None:
            termios.tcsetattr(0, termios.TCSADRAIN, self.saved)

    @staticmethod
    def _pump(source: int, target: int) -> None:
        try:
            while data := os.read(source, 65536):
                while data:
                    data = data[os.write(target, data) :]
        except OSError:
            pass  # the container's side closed (EIO)
