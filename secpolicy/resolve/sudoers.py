"""Passwordless sudo rules a Dockerfile writes into ``/etc/sudoers`` or ``/etc/sudoers.d/``.

A non-root USER that may run any command as root without a password is root
in all but name.  The rules are found in RUN scripts (``echo '… NOPASSWD:ALL'
>> /etc/sudoers.d/app``, ``tee``, ``printf``, the new text of ``sed -i 's/…/…/'``) and in ``COPY <<EOF
/etc/sudoers.d/x`` bodies.  sudoers syntax: ``who host=(runas) NOPASSWD: cmds``;
``who`` is a user, ``#uid``, ``%group`` or ``ALL``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_SEGMENT_BREAK = re.compile(r"[\n'\"]")
_TOKEN = re.compile(r"[^\s]+")


@dataclass(frozen=True)
class SudoRule:
    who: str | None  # expanded; None when it depends on a variable with no known value
    raw: str  # the rule as written
    line: int


def _rules_in_segment(segment: str) -> Iterator[tuple[str, str]]:
    tokens = _TOKEN.findall(segment)
    for i, token in enumerate(tokens):
        if "NOPASSWD" not in token:
            continue
        # the commands after "NOPASSWD:" (in this token or the next ones) must include ALL
        after = token.split("NOPASSWD", 1)[1].lstrip(":").strip()
        commands = [after] if after else tokens[i + 1 : i + 2]
        # a printf's "\\n" may end the token
        if not any(c.split("\\", 1)[0].rstrip(",;") == "ALL" for c in commands):
            continue
        # "who host=(runas)": who is the token before the first one with "="
        for j in range(i, 0, -1):
            if "=" in tokens[j] and j >= 1 and "=" not in tokens[j - 1]:
                who = tokens[j - 1]
                raw = " ".join(tokens[j - 1 : i + 1 + (0 if after else 1)]).split("\\n", 1)[0]
                yield who, raw
                break


def _sed_replacement(segment: str) -> str:
    """``s/old/new/flags`` (any delimiter), as ``sed -i`` writes it into sudoers: the new text."""
    text = segment.strip()
    if len(text) > 3 and text[0] == "s" and not text[1].isalnum() and not text[1].isspace():
        parts = text.split(text[1])
        if len(parts) >= 4:
            return parts[2]
    return segment


def sudo_rules(text: str, line: int, expand: Callable[[str], str | None]) -> list[SudoRule]:
    """NOPASSWD rules for ALL commands in ``text`` (a script writing to sudoers, or a sudoers file)."""
    if "NOPASSWD" not in text:
        return []
    out: list[SudoRule] = []
    for segment in _SEGMENT_BREAK.split(text):
        if "NOPASSWD" not in segment:
            continue
        segment = _sed_replacement(segment)
        for who, raw in _rules_in_segment(segment):
            value = expand(who) if "$" in who else who
            out.append(SudoRule(value, raw, line))
    return out
