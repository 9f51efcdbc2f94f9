"""Paths shown to the user: one unambiguous printable line each."""

from __future__ import annotations

import pytest

from secpolicy.sources import printable, printable_lines


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("src/app.py", "src/app.py"),
        ("new\nline", "new\\nline"),
        ("tab\there", "tab\\there"),
        ("back\\slash", "back\\\\slash"),
        ("bad\udcff", "bad\\xff"),
        ("café", "café"),
        ("del\x7f", "del\\x7f"),
    ],
)
def test_printable(path: str, shown: str) -> None:
    assert printable(path) == shown


@pytest.mark.parametrize(
    "paths",
    [[], ["a"], ["a", "b/c"], ["a", "new\nline"], ["x\\y"], ["café", "a"], ["bad\udcff"], ["cr\r"], ["~ !#"]],
)
def test_printable_lines_is_printable_per_line(paths: list[str]) -> None:
    assert printable_lines(paths) == "".join(printable(p) + "\n" for p in paths)
    assert printable_lines(paths).count("\n") == len(paths)
