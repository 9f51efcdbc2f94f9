"""Every fixture case yields exactly the findings in its expected.txt (none for good cases)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import cases, lint_case, render

CASES = cases()


@pytest.mark.parametrize(("rule", "kind", "case"), CASES, ids=[f"{r}/{k}/{c.name}" for r, k, c in CASES])
def test_fixture(rule: str, kind: str, case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    findings = lint_case(case, rule)
    if rule != "SP001":
        assert [f for f in findings if f.rule == "SP001"] == [], "fixture must parse"
    got = render([f for f in findings if f.rule == rule])
    expected_file = case / "expected.txt"
    if kind == "good":
        assert not expected_file.exists(), "good cases have no expected findings file"
        assert got == []
    else:
        expected = expected_file.read_text().splitlines()
        assert expected, "a bad case must expect at least one finding"
        assert got == expected
