"""Properties over generated input: lint never raises, root is root however it is spelled."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from secpolicy import catalog
from secpolicy.engine import Engine, LintOptions

RULES = catalog.load()
ENGINE = Engine(RULES, LintOptions())

_TOKENS = [
    "FROM alpine",
    "FROM scratch AS b",
    "FROM b",
    "USER ",
    "ARG X=",
    "ENV X=",
    "RUN ",
    "COPY ",
    "ONBUILD ",
    "CMD [",
    'SHELL ["sh"]',
    "HEALTHCHECK ",
    "# secpolicy: ignore=DF101 reason=x",
    "# escape=`",
    "<<EOF",
    "EOF",
    "$X",
    "${X:-",
    "${X#*}",
    "${X//a/b}",
    "}",
    "$(",
    ")",
    "`",
    "\\",
    '"',
    "'",
    " ",
    "\n",
    "\\\n",
    "sudo",
    "0",
    "root",
    "--mount=type=secret",
    "[",
    "]",
    ",",
    "=",
    ":",
    "\t",
    "\u00a0",
    "\x00",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKENS) | st.text(max_size=8), max_size=40))
def test_lint_never_raises(parts: list[str]) -> None:
    text = "".join(parts)
    findings = ENGINE.lint_text(text, "Dockerfile").findings
    assert not any("internal error" in f.message for f in findings), text
    assert all(f.line >= 1 for f in findings)


_ROOT = ["root", "0", "00", "+0", "-0", "000000"]


@given(st.sampled_from(_ROOT), st.sampled_from(["", ":root", ":0", ":1000", ":staff"]))
def test_root_however_spelled(user: str, group: str) -> None:
    text = f"FROM alpine\nUSER {user}{group}\n"
    assert "DF101" in {f.rule for f in ENGINE.lint_text(text, "Dockerfile").findings}


@given(st.integers(1, 2**31 - 1), st.sampled_from(["", ":1000", ":staff"]))
def test_non_root_uid_is_not_df101(uid: int, group: str) -> None:
    text = f"FROM alpine\nUSER {uid}{group}\n"
    assert "DF101" not in {f.rule for f in ENGINE.lint_text(text, "Dockerfile").findings}


@given(st.sampled_from(_ROOT))
def test_root_through_a_variable(user: str) -> None:
    text = f"FROM alpine\nARG U={user}\nENV V=$U\nUSER ${{V}}\n"
    assert "DF101" in {f.rule for f in ENGINE.lint_text(text, "Dockerfile").findings}
