"""`secpolicy context ls`: which ignore file applies, links never followed, odd files survived."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def ls(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "secpolicy", "context", "ls", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_lists_what_is_sent(tmp_path: Path) -> None:
    tree(
        tmp_path, {".dockerignore": "node_modules\n**/*.pem\n", "a.txt": "1", "k/x.pem": "k", "node_modules/m/i.js": ""}
    )
    result = ls(["."], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [".dockerignore", "a.txt"]


def test_dockerfile_specific_ignore_file_wins_and_is_not_merged(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".dockerignore": "a.txt\n",
            "build/app.Dockerfile": "FROM scratch\n",
            "build/app.Dockerfile.dockerignore": "b.txt\n",
            "a.txt": "",
            "b.txt": "",
        },
    )
    plain = ls(["."], tmp_path).stdout.splitlines()
    assert "a.txt" not in plain
    assert "b.txt" in plain
    specific = ls([".", "-f", "build/app.Dockerfile"], tmp_path).stdout.splitlines()
    assert "a.txt" in specific  # the root file is replaced, not merged
    assert "b.txt" not in specific


def test_explain_and_json(tmp_path: Path) -> None:
    tree(tmp_path, {".dockerignore": "*\n!keep.txt\n", "keep.txt": "12345", "drop.txt": ""})
    explained = ls([".", "--explain"], tmp_path).stdout.splitlines()
    assert explained[0] == "keep.txt\t5\t!keep.txt (.dockerignore:2)"
    assert explained[-1] == "1 files, 5 bytes sent (.dockerignore)"
    doc = json.loads(ls([".", "--format", "json"], tmp_path).stdout)
    assert doc["files"] == [
        {
            "path": "keep.txt",
            "kind": "file",
            "size": 5,
            "content_withheld": False,
            "decided_by": {"pattern": "!keep.txt", "file": ".dockerignore", "line": 2},
        }
    ]
    assert doc["summary"] == {"files": 1, "bytes": 5}


def test_invalid_pattern_fails_like_the_build(tmp_path: Path) -> None:
    tree(tmp_path, {".dockerignore": "ok\n[\n", "a": ""})
    result = ls(["."], tmp_path)
    assert result.returncode == 1
    assert ".dockerignore:2" in result.stderr
    assert "the build would fail" in result.stderr


def test_links_loops_sockets_and_fifos(tmp_path: Path) -> None:
    tree(tmp_path, {"real/file": "x"})
    (tmp_path / "to-root").symlink_to("/")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    os.mkfifo(tmp_path / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(tmp_path / "sock"))
        result = ls(["."], tmp_path)
    finally:
        sock.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["loop", "real/file", "to-root"]  # links as links, nothing outside read


def test_unreadable_directory_is_reported_and_the_walk_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads a mode-000 directory, so the refusal is made where the walk asks for it
    from secpolicy.context import walk as walk_module
    from secpolicy.context.ignore import PatternMatcher

    tree(tmp_path, {"locked/x": "", "ok": "", "skipped/y": ""})
    real = os.scandir

    def scandir(path: os.PathLike[str] | str) -> object:
        if Path(path).name in ("locked", "skipped"):
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    walked = walk_module.walk(tmp_path, PatternMatcher(["skipped", "!skipped/keep"]))
    entries = walked.paths
    assert [(p.path, p.message) for p in walked.problems] == [("locked", "cannot read directory: Permission denied")]
    assert entries == ["ok"]  # an excluded directory's error is ignored, as fsutil ignores it


def test_odd_names_are_one_line_each(tmp_path: Path) -> None:
    (tmp_path / "new\nline").write_text("")
    (tmp_path / os.fsdecode(b"bad\xff")).write_text("")
    result = ls(["."], tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ["bad\\xff", "new\\nline"]


def test_odd_names_in_json_are_valid_utf8_and_recoverable(tmp_path: Path) -> None:
    (tmp_path / "new\nline").write_text("")
    (tmp_path / os.fsdecode(b"bad\xff")).write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "context", "ls", ".", "--format", "json"], cwd=tmp_path, capture_output=True
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout.decode("utf-8", "strict"))
    files = {f["path"]: f for f in doc["files"]}
    assert files["new\nline"].get("path_hex") is None  # JSON holds a newline as it is
    assert bytes.fromhex(files["bad\\xff"]["path_hex"]) == b"bad\xff"
    assert "\\udc" not in result.stdout.decode()  # no lone surrogate escapes, which strict decoders refuse


def test_findings_on_odd_names_are_one_printable_line(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("x\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine\nCOPY . /app\nUSER 1\n")
    (tmp_path / os.fsdecode(b"id_rsa\xff")).write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (tmp_path / "big\ndir").mkdir()
    (tmp_path / "big\ndir" / "f").write_bytes(b"\0" * (11 * 1024 * 1024))
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", ".", "--format", "json"], cwd=tmp_path, capture_output=True
    )
    text = result.stdout.decode("utf-8", "strict")
    assert "\\udc" not in text
    findings = json.loads(text)["findings"]
    keys = {f["rule"]: f["key"] for f in findings}
    assert keys["CTX103"] == "stage 0:id_rsa\\xff", findings
    assert all(f["message"].isprintable() for f in findings)


def test_context_from_config_and_flag(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {"docker/Dockerfile": "FROM alpine:3.20\nCOPY . /app\nUSER 10001\n", ".env": "X=1\n", "docker/README": ""},
    )

    def rules(*args: str) -> list[str]:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "secpolicy",
                "lint",
                "docker/Dockerfile",
                "--format",
                "json",
                "--select",
                "CTX",
                *args,
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        return sorted(f["rule"] for f in json.loads(result.stdout)["findings"])

    assert rules() == []  # the context is docker/: no .env there
    assert rules("--context", ".") == ["CTX101", "CTX103"]
    (tmp_path / "secpolicy.yaml").write_text("contexts:\n  docker/Dockerfile: .\n")
    assert rules() == ["CTX101", "CTX103"]
    (tmp_path / "secpolicy.yaml").write_text("contexts:\n  docker/Dockerfile: nowhere\n")
    bad = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint", "docker/Dockerfile"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "contexts.docker/Dockerfile" in bad.stderr


def test_ignore_file_with_invalid_utf8_and_a_large_one(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("")
    (tmp_path / os.fsdecode(b"x\xff")).write_text("")
    (tmp_path / ".dockerignore").write_bytes(b"x\xff\n")  # Go compares bytes: it excludes exactly that name
    assert ls(["."], tmp_path).stdout.splitlines() == [".dockerignore", "a.txt"]
    (tmp_path / ".dockerignore").write_bytes(b"# comment\n" * 100_000 + b"a.txt\n")  # 1 MB, one pattern
    result = ls(["."], tmp_path)
    assert result.returncode == 0
    assert "a.txt" not in result.stdout.splitlines()
    (tmp_path / ".dockerignore").write_text("".join(f"p{i}\n" for i in range(20_000)))
    result = ls(["."], tmp_path)
    assert result.returncode == 1
    assert "at most 10,000" in result.stderr
    assert "not judged" in result.stderr


def test_listing_is_unambiguous(tmp_path: Path) -> None:
    (tmp_path / "new\\nline").write_text("")  # a literal backslash and n
    (tmp_path / "new\nline").write_text("")  # a real newline
    lines = ls(["."], tmp_path).stdout.splitlines()
    assert sorted(lines) == ["new\\\\nline", "new\\nline"]
