"""The fast reading of `secpolicy run`'s line: the same options as the typer command, the same request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from secpolicy.runtime import argv
from secpolicy.runtime.command import RunRequest


def _typer_run() -> Any:
    import typer.main

    from secpolicy.cli import app

    return typer.main.get_command(app).commands["run"]  # type: ignore[attr-defined]


def test_the_fast_table_is_the_typer_command() -> None:
    typer_options = {}
    for param in _typer_run().params:
        for name in [*param.opts, *param.secondary_opts]:
            if name.startswith("-"):
                kind = argv.FLAG if param.is_flag else argv.LIST if param.multiple else argv.VALUE
                typer_options[name] = kind
    assert {name: kind for name, (_, kind) in argv.OPTIONS.items()} == typer_options
    request_fields = set(RunRequest.__dataclass_fields__)
    assert {f for f, _ in argv.OPTIONS.values()} | {"command"} == request_fields


LINES = [
    ["--rootfs", "r", "--", "/bin/true"],
    ["--rootfs=r", "-u", "1000:1000", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "/bin/httpd", "-f"],
    ["--rootfs", "r", "-e", "A=1", "--env=B=2", "-v", "/a:/b:ro", "--tmpfs", "/tmp", "-t", "--read-only", "sh"],
    ["--from", "Dockerfile", "--target", "final", "--build-arg", "X=1", "--config", "c.yaml", "--dry-run"],
    ["--pod", "p.yaml", "--container", "api", "--audit", "--runtime", "runc", "--", "-not-an-option"],
    ["--env-file", "e1", "--env-file", "e2", "--group-add", "wheel", "--ambient", "NET_BIND_SERVICE", "x", "--user=y"],
    ["-w", "/srv", "--hostname", "h", "--network", "host", "--security-opt", "no-new-privileges", "--privileged"],
]


@pytest.mark.parametrize("line", LINES)
def test_the_same_request_as_typer(line: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[RunRequest] = []

    def record(request: RunRequest) -> int:
        seen.append(request)
        return 0

    monkeypatch.setattr("secpolicy.runtime.command.execute", record)
    from secpolicy import cli

    assert cli.main(["run", *line]) == 0
    assert argv.parse(line) == seen[0]


@pytest.mark.parametrize(
    "line",
    [["--help"], ["--rootfs"], ["--no-such-option"], ["-tu", "1000"], ["--privileged=yes"], ["-u=1000"]],
)
def test_anything_else_is_left_to_typer(line: list[str]) -> None:
    assert argv.parse(line) is None


def test_the_entry_point_takes_the_fast_path_and_falls_back(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from secpolicy import entry

    requests: list[RunRequest] = []

    def record(request: RunRequest) -> int:
        requests.append(request)
        return 7

    monkeypatch.setattr("secpolicy.runtime.command.execute", record)
    assert entry.main(["run", "--rootfs", "r", "--", "true"]) == 7
    assert requests == [RunRequest(command=["true"], rootfs=Path("r"))]
    assert entry.main(["run", "--help"]) == 0
    assert "--cap-add" in capsys.readouterr().out

    def broken(request: RunRequest) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr("secpolicy.runtime.command.execute", broken)
    assert entry.main(["run", "--rootfs", "r", "true"]) == 2
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err
