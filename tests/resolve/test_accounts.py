"""useradd/adduser/usermod read the way each tool reads its options."""

from __future__ import annotations

import pytest

from secpolicy.dockerfile.instructions import load
from secpolicy.resolve.accounts import Account, accounts_created


def created(script: str) -> list[Account]:
    df = load(f"FROM alpine\nRUN {script}\n", "Dockerfile")
    return accounts_created(df.stages[0].instructions[0])


@pytest.mark.parametrize(
    ("script", "name", "uid"),
    [
        ("useradd -mou 0 admin", "admin", 0),
        ("useradd -o -u 0 admin", "admin", 0),
        ("useradd -u0 admin", "admin", 0),
        ("useradd --uid=0 admin", "admin", 0),
        ("useradd --uid 42 app", "app", 42),
        ("useradd --ui 42 app", "app", 42),  # GNU getopt: unique abbreviations
        ("useradd -md /home/x app", "app", None),  # -d takes /home/x: app is the login
        ("useradd -md /home/x -u 7 app", "app", 7),
        ("useradd app -u 9", "app", 9),  # operands may come first
        ("useradd -r -s /sbin/nologin -c 'a b' -u 1001 svc", "svc", 1001),
        ("adduser -D -u 0 admin", "admin", 0),  # BusyBox
        ("adduser -D -g 'Full Name' -u 5 app", "app", 5),  # BusyBox -g is GECOS
        ("adduser --disabled-password --uid 0 --gecos '' admin", "admin", 0),  # Debian
        ("adduser --uid=12 --ingroup staff app", "app", 12),
        ("usermod -ou 0 app", "app", 0),
        ("echo 'toor:x:0:0:root:/root:/bin/sh' >> /etc/passwd", "toor", 0),
        ("sh -c 'useradd -ou 0 admin'", "admin", 0),
    ],
)
def test_uid_of_created_account(script: str, name: str, uid: int | None) -> None:
    accounts = {a.name: a for a in created(script)}
    assert accounts[name].uid == uid


def test_adduser_user_group_adds_a_member_not_a_uid() -> None:
    [account] = created("adduser app sudo")
    assert (account.name, account.uid, account.groups) == ("app", None, frozenset({"sudo"}))


def test_dollar_names_are_not_recorded() -> None:
    assert created("useradd -u 0 $NAME") == []
