"""The bundled runtime: the same ``config.json`` runc gets, carried out by this Python process.

Processes::

    secpolicy run (host)        forwards signals to the init, waits for it, returns its status
     └─ init (pid 1)            new pid namespace; its own session; not dumpable; once the container's
         │                      file system is in place, it joins the container's other namespaces and
         │                      keeps only CAP_KILL; reaps every zombie, forwards signals, exits with
         │                      the command's status
         └─ container process   new mount, uts, ipc (and net) namespaces; the rootfs (fs.py);
                                then the credentials in runc's order; exec

The init enters the container's mount namespace only after ``pivot_root``
(which moves the root of every process already in it), through a pidfd, so
its root, working directory and ``/proc/1/net`` are the container's; with
nothing but CAP_KILL, no descriptor and no_new_privs, even a container that
may ptrace it gains nothing of the host.  Being non-dumpable, it cannot be
opened through ``/proc/1/{exe,fd,environ}`` by a container without
CAP_SYS_PTRACE, and when it exits the kernel kills whatever is left in the
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
import ctypes
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

from secpolicy.runtime import caps, libc, signals
from secpolicy.runtime.caps import Capabilities
from secpolicy.runtime.fs import Filesystem
from secpolicy.runtime.libc import Libc
from secpolicy.runtime.spec import Container

_UNTOUCHABLE = {signal.SIGKILL, signal.SIGSTOP}
_ALL_FDS = 2**31 - 1  # close_range(2) takes the whole range in one call
_DEVPTS_SUPER_MAGIC = 0x1CD1
_TIOCSPTLCK = 0x40045431  # asm-generic ioctls (x86_64, aarch64); Python's termios lacks both
_TIOCGPTPEER = 0x5441
_PIPEFS_MAGIC = 0x50495045
_SOCKFS_MAGIC = 0x534F434B
INIT_ID = 2**31 - 2  # the init's uid and gid once it has set up: nobody's, far from any image's users


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


@dataclass(frozen=True)
class _Start:
    container: Container
    report: int  # the write end of the pipe to the caller
    console: int  # the container's end of the socket its pty's master comes back through, or -1
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
        _ensure_stdio()
        read_end, write_end = os.pipe2(os.O_CLOEXEC)
        master = console = -1
        theirs = None
        if container.terminal:
            # the pty is the container's own (its devpts), as runc's console socket makes it: the master
            # comes back over this socket; socket is loaded here, since the children may import nothing
            import socket

            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            console = theirs.fileno()
        start = _Start(container, write_end, console, (host.st_dev, host.st_ino), caps.last_cap())
        sys.stdout.flush()
        sys.stderr.flush()
        # an ignored SIGCHLD (inherited from whoever started us) would let the kernel reap the init unseen
        old_chld = signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals.WATCHED)
        copier = None
        try:
            pid = self._fork_init(start)
            os.close(write_end)
            write_end = -1
            if theirs is not None:
                theirs.close()
                master = _receive_master(ours)
                ours.close()
                if master >= 0:
                    _copy_winsize(0, master)
            message = _read_all(read_end)
            copier = _Terminal(master).start() if master >= 0 else None

            def winch(number: int) -> None:
                if number == signal.SIGWINCH and master >= 0:
                    _copy_winsize(0, master)

            status = signals.supervise(pid, reap_all=False, on_signal=winch)
        finally:
            if copier is not None:
                copier.finish()
            signals.drain()
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            signal.signal(signal.SIGCHLD, old_chld)
            for fd in (read_end, write_end, master):
                if fd >= 0:
                    os.close(fd)
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

    def _init(self, start: _Start) -> NoReturn:  # pragma: no cover - in the container's process
        """Pid 1 of the container's pid namespace."""
        child = -1
        try:
            lock_imports()
            self.caps.set_pdeathsig(signal.SIGKILL)
            self.caps.set_not_dumpable()
            self.caps.set_name("secpolicy-init")
            os.setsid()  # the terminal's signals reach the caller only, which forwards them once
            ready, in_place = os.pipe2(os.O_CLOEXEC)
            go, joined = os.pipe2(os.O_CLOEXEC)
            child = os.fork()
            if child == 0:
                os.close(ready)
                os.close(joined)
                self._container(start, in_place, go)
            os.close(in_place)
            os.close(go)
            _close_all_but(ready, joined, start.report)  # the caller's descriptors and the pty: nothing stays
            # the command waits until this is done: at no moment does it share a namespace with a
            # privileged init, nor can it exit before the init has joined
            in_container = os.read(ready, 1) == b"R"
            _blank_arguments_and_environment()
            if in_container:
                self._join(child, start.container.namespaces & ~libc.CLONE_NEWPID)
            self._drop_all_but_kill(start.last_cap)
            for fd in (0, 1, 2):
                with contextlib.suppress(OSError):
                    os.close(fd)
            os.close(ready)
            if in_container:
                os.write(joined, b"J")
            os.close(joined)
            os.close(start.report)
            os._exit(signals.supervise(child, reap_all=True))
        except BaseException as exc:  # whatever it is, the command does not start and the caller hears of it
            if child > 0:
                with contextlib.suppress(OSError):
                    os.kill(child, signal.SIGKILL)
            _report(start.report, 125, f"the init failed: {exc}")

    def _console(self, console: int) -> None:  # pragma: no cover - in the container's process
        """A pty of the container's own devpts: its master to the caller, its terminal as stdio and /dev/console."""
        import socket  # loaded by the caller before the fork (-t): no import happens here

        master = os.open("/dev/pts/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        try:
            if self.lc.fs_type(master) != _DEVPTS_SUPER_MAGIC:
                raise StartError(125, "/dev/pts/ptmx in the container is not the container's devpts")
            fcntl.ioctl(master, _TIOCSPTLCK, b"\0\0\0\0")  # unlock the terminal side
            terminal_side = fcntl.ioctl(master, _TIOCGPTPEER, os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
            with socket.socket(fileno=os.dup(console)) as channel:
                channel.sendmsg([b"m"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, master.to_bytes(4, sys.byteorder))])
        finally:
            os.close(master)
            os.close(console)
        root = os.open("/", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            self.fs.console(root, terminal_side)
        finally:
            os.close(root)
        fcntl.ioctl(terminal_side, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(terminal_side, fd)
        os.close(terminal_side)

    def _own_stdio(self, uid: int, *, pty: bool) -> None:  # pragma: no cover - in the container's process
        """Give the container's user its pipes and sockets (and our pty), as runc's fixStdioPermissions does,
        so that it may reopen /dev/stdout; a terminal, file or named pipe of the host keeps its owner."""
        for fd in (0, 1, 2):
            try:
                info = os.fstat(fd)
                anonymous = self.lc.fs_type(fd) in (_PIPEFS_MAGIC, _SOCKFS_MAGIC)
            except OSError:
                continue
            if (anonymous or (pty and stat.S_ISCHR(info.st_mode))) and info.st_uid != uid:
                with contextlib.suppress(OSError):
                    os.fchown(fd, uid, -1)

    def _join(self, child: int, namespaces: int) -> None:  # pragma: no cover - in the init
        """Enter the container's namespaces (a pidfd names the child without /proc), and its root."""
        pidfd = os.pidfd_open(child)
        try:
            self.lc.setns(pidfd, namespaces)
        finally:
            os.close(pidfd)
        os.chdir("/")

    def _drop_all_but_kill(self, last_cap: int) -> None:  # pragma: no cover - in the init
        """An unused uid holding CAP_KILL alone (to signal a command of another uid), no_new_privs: even a
        container allowed to ptrace the init gets nothing a container process does not have."""
        kill = 1 << caps.NUMBERS["KILL"]
        self.caps.drop_bounding(kill, last_cap)
        self.caps.set_keepcaps(True)
        os.setgroups([])
        os.setresgid(INIT_ID, INIT_ID, INIT_ID)
        os.setresuid(INIT_ID, INIT_ID, INIT_ID)
        self.caps.set_keepcaps(False)
        self.caps.capset(kill, kill, 0)
        self.caps.set_ambient(0, last_cap)
        self.caps.set_no_new_privs()
        self.caps.set_not_dumpable()  # a credential change may have reset it (fs.suid_dumpable)
        self.caps.set_pdeathsig(signal.SIGKILL)

    def _container(  # pragma: no cover - in the container's process
        self, start: _Start, in_place: int, go: int
    ) -> NoReturn:
        c = start.container
        step = "the namespaces"
        try:
            _close_all_but(start.report, start.console, in_place, go)  # nothing the caller holds stays reachable
            self.caps.set_pdeathsig(signal.SIGKILL)
            os.setsid()
            self.lc.unshare(c.namespaces & ~libc.CLONE_NEWPID)
            step = "the root file system"
            os.umask(0)
            self.fs.prepare(c)
            os.write(in_place, b"R")
            os.close(in_place)
            if os.read(go, 1) != b"J":
                raise StartError(125, "the init could not enter the container's namespaces")
            os.close(go)
            if start.console >= 0:
                step = "the terminal"
                self._console(start.console)
            step = "the host name"
            if c.hostname and c.namespaces & libc.CLONE_NEWUTS:
                self.lc.sethostname(c.hostname)
            step = "the resource limits"
            for kind, soft, hard in c.rlimits:
                resource.setrlimit(kind, (soft, hard))
            step = f"the working directory {c.cwd}"
            entered = _try_chdir(c.cwd)  # as root first, as runc: a directory only root may enter is fine
            step = "the credentials"
            self._own_stdio(c.uid, pty=start.console >= 0)
            self.caps.drop_bounding(c.bounding, start.last_cap)
            self.caps.set_keepcaps(True)
            os.setgroups(c.additional_gids)
            os.setresgid(c.gid, c.gid, c.gid)
            os.setresuid(c.uid, c.uid, c.uid)
            step = f"the working directory {c.cwd}"
            if not entered:
                os.chdir(c.cwd)
            if not os.getcwd().startswith("/"):
                raise StartError(125, f"the working directory {c.cwd} is outside the container")
            step = "the capabilities"
            self.caps.set_keepcaps(False)
            self.caps.capset(c.effective, c.permitted, c.inheritable)
            for number in self.caps.set_ambient(c.ambient, start.last_cap):
                os.write(2, f"secpolicy: warning: ambient {caps.names(1 << number)[0]} not raised\n".encode())
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


def _refuse_runtime(candidate: str, info: os.stat_result, interpreter: tuple[int, int], depth: int = 0) -> None:
    """The host interpreter, through ``/proc/self/exe`` or a ``#!`` line, is never the container's program.

    ``#!`` lines are followed as deep as the kernel follows them (BINPRM_MAX_RECURSION, 4)."""
    if (info.st_dev, info.st_ino) == interpreter or posixpath.realpath(candidate).startswith("/proc/"):
        raise StartError(126, f"{candidate}: refusing to run the runtime's own interpreter or a /proc path")
    if depth > 4:
        return
    try:
        fd = os.open(candidate, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return  # executable but unreadable: the kernel decides
    try:
        head = os.read(fd, 256)
    except OSError:
        return  # unreadable: the kernel decides
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
        if not stat.S_ISREG(target.st_mode):
            raise StartError(126, f"{candidate}: its #! interpreter {interp} is not a program")
        if (target.st_dev, target.st_ino) == interpreter:
            raise StartError(126, f"{candidate}: refusing a #! line that runs the runtime's own interpreter")
        _refuse_runtime(interp, target, interpreter, depth + 1)


def _try_chdir(path: str) -> bool:
    try:
        os.chdir(path)
    except PermissionError:
        return False  # again as the container's user
    return True


def _blank_arguments_and_environment() -> None:
    """Zero the caller's command line and environment in this process's memory (/proc/1/{cmdline,environ}).

    Python copied both at start-up; the kernel's PR_SET_MM would need CAP_SYS_RESOURCE instead."""
    with open("/proc/self/stat", "rb") as fh:
        fields = fh.read().rsplit(b")", 1)[1].split()
    arg_start, arg_end, env_start, env_end = (int(f) for f in fields[45:49])  # fields 48-51 of proc(5)
    for start, end in ((arg_start, arg_end), (env_start, env_end)):
        if 0 < start < end:
            ctypes.memset(start, 0, end - start)


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


def _ensure_stdio() -> None:
    """A closed 0, 1 or 2 becomes /dev/null: no descriptor of ours may take a number the container uses as stdio."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:  # a lower one was closed too and took it; it is handled on its own turn
                os.dup2(opened, fd)
                os.close(opened)


def _receive_master(channel: Any) -> int:
    """The pty master the container's process sends, or -1 when it failed before (the socket just closes)."""
    import socket

    _, ancillary, _, _ = channel.recvmsg(1, socket.CMSG_SPACE(4), socket.MSG_CMSG_CLOEXEC)
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and len(data) >= 4:
            return int.from_bytes(data[:4], sys.byteorder)
    return -1


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
        self.input = threading.Thread(target=self._feed, args=(master,), daemon=True)

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
    def _feed(master: int) -> None:
        """stdin to the pty; at the end of a piped stdin, the end-of-file character as a typed ^D (twice
        after a partial line: the first only ends the line)."""
        last = b"\n"
        try:
            while data := os.read(0, 65536):
                last = data[-1:]
                while data:
                    data = data[os.write(master, data) :]
            if not os.isatty(0):
                eof = termios.tcgetattr(master)[6][termios.VEOF]
                os.write(master, eof if last == b"\n" else eof + eof)
        except OSError:
            pass  # the container's side closed (EIO)

    @staticmethod
    def _pump(source: int, target: int) -> None:
        """The pty to stdout; once stdout is gone (``| head -1``), on draining, so the container never blocks."""
        try:
            while data := os.read(source, 65536):
                while data and target >= 0:
                    try:
                        data = data[os.write(target, data) :]
                    except OSError:
                        target = -1
        except OSError:
            pass  # the container's side closed (EIO)
