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


def test_secret_names_and_values() -> None:
    from secpolicy import secrets

    for name in (
        "PGPASSWORD",
        "MYSQL_PWD",
        "MYSQL_ROOT_PASSWORD",
        "REDIS_PASSWORD",
        "SMTP_PASS",
        "DB_PWD",
        "AWS_CREDS",
        "dbPassword",
        "LDAP_ROOTPASS",
        "clientSecret",
        "GITHUBTOKEN",
    ):
        assert secrets.is_secret_name(name), name
    for name in (
        "PWD",
        "OLDPWD",
        "BYPASS_CACHE",
        "KEEPASSXC_VERSION",
        "TOKEN_FILE",
        "GPG_KEY_ID",
        "ALLOW_EMPTY_PASSWORD",
        "KEYBOARD",
        "POSTGRES_USER",
    ):
        assert not secrets.is_secret_name(name), name
    not_secret = [
        ("PYTHON_GPG_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D"),
        ("NODE_GPG_KEYS", "4ED778F539E3634C779C87C6D7062848A1AB005C 141F07595B7B3FFE74309A937405533BE57C7D57"),
        ("DB_PASSWORD", "/run/secrets/db"),
        ("DB_PASSWORD", "${DB_PASSWORD}"),
        ("DB_PASSWORD", "<password>"),
        ("API_TOKEN", "your-token-here"),
        ("Foo__Key", "ProcessId"),
    ]
    for name, value in not_secret:
        assert secrets.not_secret_value_reason(name, value) is not None, (name, value)
    for name, value in (
        ("API_KEY", "A035C8C19219BA821ECEA86B64E628F8D684696D"),
        ("DB_PASSWORD", "postgres"),
        ("Foo__Key", "s3cr3tK3y"),
    ):
        assert secrets.not_secret_value_reason(name, value) is None, (name, value)
