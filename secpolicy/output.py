"""Writing a report to ``--output PATH`` without destroying what PATH is.

* a regular file, or a path that does not exist yet: written to a temporary
  file beside it and renamed over it, so a reader never sees half a report
  and a failed write leaves the old file as it was (its mode is kept);
* a character device (``/dev/null``, a terminal) or a FIFO: written straight
  into it, never replaced (a FIFO blocks until something reads it, as a shell
  redirection does);
* a symbolic link: followed, and its target is written as above (the link
  stays a link);
* a directory, a socket, a block device or a symlink loop: an error.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path


class OutputError(OSError):
    """The report cannot be written to the path given; the message says why."""


def write_text(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    target = Path(os.path.realpath(path))
    try:
        st: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"{path}: symbolic link loop") from None
        raise OutputError(f"{path}: {exc.strerror or exc}") from None
    if st is None or stat.S_ISREG(st.st_mode):
        _replace(target, data, None if st is None else stat.S_IMODE(st.st_mode))
    elif stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        _write_into(target, data)
    elif stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a directory")
    else:
        raise OutputError(f"{path}: not a regular file, character device or FIFO; refusing to write to it")


def _write_into(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _replace(target: Path, data: bytes, mode: int | None) -> None:
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    # 0o666 lets the umask decide a new file's mode, as a shell redirection would
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
    try:
        try:
            _write_all(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
