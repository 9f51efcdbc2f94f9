"""Many files are linted on every core, with the same report as one process."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from secpolicy import parallel
from secpolicy.cli import main


def _lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        main(["lint", "--format", "json", "--fail-on", "never"])
    finally:
        os.chdir(cwd)
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_pool_gives_the_same_report_in_the_same_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    users = ["root", "10001", "app", "${UID}", "0:0"]
    for i in range(40):
        d = tmp_path / f"svc{i:02d}"
        d.mkdir()
        (d / "Dockerfile").write_text(f"FROM alpine\nRUN sudo echo {i}\nUSER {users[i % len(users)]}\n")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "Dockerfile").write_text("FROM\n")
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 10**9)
    serial = _lint(tmp_path, capsys)
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 5)
    assert parallel.workers(41) > 1 or (os.cpu_count() or 1) == 1
    pooled = _lint(tmp_path, capsys)
    assert pooled == serial
    assert serial["summary"]["files"] == 41
    assert [f["path"] for f in serial["findings"]][:2] == ["broken/Dockerfile", "svc00/Dockerfile"]
