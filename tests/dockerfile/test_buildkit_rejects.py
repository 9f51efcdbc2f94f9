"""What BuildKit refuses to build is SP001, with BuildKit's reason; what it builds is not."""

from __future__ import annotations

import pytest

from secpolicy.engine import Engine, LintOptions


def sp001(rules, text: str, **options: object) -> list[tuple[int, str]]:
    result = Engine(rules, LintOptions(**options)).lint_text(text, "Dockerfile")  # type: ignore[arg-type]
    return [(f.line, f.message) for f in result.findings if f.rule == "SP001"]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("FROM alpine\nSHELL /bin/bash -c\n", 2, "SHELL requires the arguments to be in JSON form"),
        ("FROM alpine\nSHELL []\n", 2, "SHELL requires at least one argument"),
        ("FROM alpine\nARG X=${Y:1}\n", 2, "unsupported modifier (:1) in substitution"),
        ("FROM alpine\nARG X=${Y:i}\nUSER 1\n", 2, "unsupported modifier (:i) in substitution"),
        ("FROM alpine\nENV X=${Y:#a}\n", 2, "unsupported modifier (:#) in substitution"),
        ("FROM alpine\nENV X=${Y#\\a}\n", 2, "invalid pattern"),
        ("FROM scratch\nUSER ${U:?must be set}\n", 2, "U: must be set"),  # alpine might set U
        ("FROM alpine\nCOPY ${SRC /dst\n", 2, "missing '}'"),
        ("ARG V=${X:x}\nFROM alpine\n", 1, "unsupported modifier"),
        ("FROM Alpine\n", 1, "must be lowercase"),
        ("FROM alpine AS a\nFROM A\n", 2, "must be lowercase"),  # stage names match exactly, case and all
        ("FROM alpine:bad tag\n", 1, "FROM requires either one or three arguments"),
        ("ARG B=\nFROM $B\n", 2, "should not be blank"),
        ("FROM alpine\nENV =x\n", 2, "ENV names can not be blank"),
        ("FROM alpine\nARG =x\n", 2, "ARG names can not be blank"),
        ('FROM alpine\nVOLUME ["/a", " "]\n', 2, "VOLUME specified can not be an empty string"),
        ("FROM alpine\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
        ("FROM alpine\nHEALTHCHECK CURL x\n", 2, "Unknown type"),
        ("FROM alpine\nHEALTHCHECK CMD\n", 2, "Missing command after HEALTHCHECK CMD"),
        ("FROM alpine\nHEALTHCHECK --interval=5 CMD true\n", 2, "invalid duration"),
        ("FROM alpine\nHEALTHCHECK --timeout=1us CMD true\n", 2, "cannot be less than 1ms"),
        ("FROM alpine\nHEALTHCHECK --retries=-1 CMD true\n", 2, "--retries cannot be negative"),
        ("FROM alpine\nSTOPSIGNAL SIGNOPE\n", 2, "Invalid signal: SIGNOPE"),
        ("FROM alpine\nSTOPSIGNAL 0\n", 2, "Invalid signal: 0"),
        (
            "FROM alpine AS a\nONBUILD COPY x\nFROM a\n",
            2,
            "ONBUILD trigger of stage a: COPY requires at least two arguments",
        ),
        ("FROM alpine\nHEALTHCHECK\n", 2, "HEALTHCHECK requires at least one argument"),
        ('FROM alpine\nCMD --doit ["a"]\n', 2, "unknown flag: --doit"),
        ("FROM alpine\nENV --x=1 A=b\n", 2, "unknown flag: --x"),
        ("FROM alpine\nUSER --chown=1 app\n", 2, "unknown flag: --chown"),
    ],
)
def test_rejected(rules, text: str, line: int, reason: str) -> None:
    [(got_line, message)] = sp001(rules, text)
    assert got_line == line
    assert reason in message


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("FROM alpine\nARG X=${Y:i}\nUSER 1\n", {"build_args": {"X": "1"}}),  # dispatchArg skips the default
        ("FROM alpine AS unused\nARG X=${Y:i}\nFROM alpine\nUSER 1\n", {}),  # a stage no build runs
        ("FROM alpine AS a\nONBUILD COPY x\nUSER 1\n", {}),  # a trigger nothing runs
        ("FROM alpine\nSTOPSIGNAL sigterm\nSTOPSIGNAL 9\nSTOPSIGNAL RTMIN+3\nUSER 1\n", {}),
        ("FROM alpine\nHEALTHCHECK --interval=1m30s --retries=3 CMD true\nUSER 1\n", {}),
        ("ARG BASE\nFROM $BASE\n", {}),  # needs --build-arg: reported as unknown, not as an error
        ('FROM alpine\nSHELL ["/bin/bash", "-c"]\nUSER 1\n', {}),
        ('FROM alpine\nCMD ["a"] trailing\nUSER 1\n', {}),  # not JSON for Go: shell form
        ("FROM alpine\nRUN --newflag=1 true\nCOPY --future a b\nUSER 1\n", {}),  # newer frontends add these
        ("FROM alpine\nARG --x A\nUSER 1\n", {}),  # parseArg never parses flags
    ],
)
def test_accepted(rules, text: str, options: dict[str, object]) -> None:
    assert sp001(rules, text, **options) == []
