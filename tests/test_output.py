"""``--output`` never destroys what it points at: devices and FIFOs are written into, links followed."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from conftest import is_root

from secpolicy.output import OutputError, write_text


def test_regular_file_is_replaced_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")
    target.chmod(0o640)
    write_text(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"], "no temporary file is left behind"


def test_missing_file_is_created(tmp_path: Path) -> None:
    target = tmp_path / "new.txt"
    write_text(target, "x")
    assert target.read_text() == "x"


def test_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text(link, "through the link")
    assert link.is_symlink()
    assert real.read_text() == "through the link"


def test_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "later.txt")
    write_text(link, "made")
    assert link.is_symlink()
    assert (tmp_path / "later.txt").read_text() == "made"


def test_symlink_loop_is_a_clear_error(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OutputError, match="symbolic link loop"):
        write_text(a, "x")
    assert a.is_symlink()
    assert b.is_symlink()


def test_fifo_is_written_into_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as fh:
            received.append(fh.read())

    thread = threading.Thread(target=reader)
    thread.start()
    write_text(fifo, "through the pipe\n")
    thread.join(timeout=10)
    assert received == [b"through the pipe\n"]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(not is_root(), reason="creating a character device node needs root (mknod)")
def test_character_device_is_written_into_not_replaced(tmp_path: Path) -> None:
    # a null device of our own (major 1, minor 3), never the host's /dev/null
    node = tmp_path / "null"
    os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    try:
        write_text(node, "discarded\n")
    except PermissionError:
        pytest.skip(f"{tmp_path} is mounted nodev: device nodes cannot be opened there")
    st = os.lstat(node)
    assert stat.S_ISCHR(st.st_mode)
    assert st.st_rdev == os.makedev(1, 3)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        write_text(tmp_path, "x")


def test_cli_output_to_fifo_and_dash(tmp_path: Path) -> None:
    from test_cli import run, write

    write(tmp_path / "Dockerfile", "FROM alpine:3.20\nUSER 0\n")
    result = run(["lint", "-o", "-", "--format", "json"], tmp_path)
    assert result.returncode == 1
    assert '"rule": "DF101"' in result.stdout
    result = run(["lint", "-o", str(tmp_path), "--format", "json"], tmp_path)
    assert result.returncode == 2
    assert "cannot write the report" in result.stderr
    assert "is a directory" in result.stderr
