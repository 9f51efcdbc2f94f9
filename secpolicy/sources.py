"""Reading untrusted files: size cap, binary detection, strict UTF-8."""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_BYTES = 4 * 1024 * 1024  # real Dockerfiles are kilobytes; this is a guard, not a target
MAX_MANIFEST_BYTES = 16 * 1024 * 1024  # all-in-one install manifests with CRDs reach megabytes


class SourceError(Exception):
    """Why a file cannot be linted; ``line`` where it is known."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def decode(data: bytes, limit: int = MAX_BYTES) -> str:
    if len(data) > limit:
        raise SourceError(f"file is too large (more than {limit} bytes, the limit)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError("UTF-16 text: secpolicy reads UTF-8 (convert it, e.g. iconv -f UTF-16 -t UTF-8)")
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        raise SourceError("binary file (contains a NUL byte)", line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(f"invalid UTF-8 at byte {exc.start}", line) from None
    # a leading byte order mark is not content (BuildKit's parser and kubectl drop it too)
    return text[1:] if text.startswith("\ufeff") else text


def read(path: Path, limit: int = MAX_BYTES) -> str:
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise SourceError("is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise SourceError("not a regular file (device, socket or pipe)")
        size = st.st_size
        if size > limit:
            raise SourceError(f"file is too large ({size} bytes; the limit is {limit})")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except SourceError:
        raise
    except OSError as exc:
        raise SourceError(exc.strerror or str(exc)) from None
    return decode(data, limit)


def display(path: Path, base: Path | None = None) -> str:
    """A stable, relative-where-possible name for reports."""
    if base is not None:
        try:
            return os.path.relpath(path, base).replace(os.sep, "/")
        except ValueError:
            pass
    return str(path).replace(os.sep, "/")


def json_path(path: str) -> dict[str, str]:
    """A path for JSON output: as it is, or, when it holds bytes that are not UTF-8, shown escaped and as hex bytes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return {"path": printable(path), "path_hex": os.fsencode(path).hex()}
    return {"path": path}


def printable_lines(paths: list[str]) -> str:
    """``printable`` of each path, one per line.

    A 200k-file listing is checked in one pass when it is plain ASCII: once
    every printable byte but the backslash is deleted, only the separating
    newlines may be left.
    """
    text = "\n".join(paths)
    if text.isascii() and len(text.encode("ascii").translate(None, _PLAIN_ASCII)) == len(paths) - 1:
        return text + "\n" if paths else ""
    return "".join(printable(p) + "\n" for p in paths)


_PLAIN_ASCII = bytes(c for c in range(0x20, 0x7F) if c != 0x5C)


def printable(path: str) -> str:
    """A path as one unambiguous printable line: backslashes, control characters and undecodable bytes escaped."""
    if path.isprintable() and "\\" not in path:
        return path
    out = []
    for c in path:
        if "\udc80" <= c <= "\udcff":  # an undecodable byte, as surrogateescape keeps it
            out.append(f"\\x{ord(c) - 0xDC00:02x}")
        elif c == "\\" or not c.isprintable():
            out.append(c.encode("unicode_escape").decode("ascii"))
        else:
            out.append(c)
    return "".join(out)
