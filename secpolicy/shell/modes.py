"""File modes as ``chmod``, ``install -m`` and ``mkdir -m`` read them (GNU coreutils).

``MODE`` is ``[-+=]?OCTAL`` or comma-separated clauses ``[ugoa]*([-+=]([rwxXst]*|[ugo]))+``.
Only the special bits matter here: which of setuid and setgid a mode *sets*.
"""

from __future__ import annotations

import re

_CLAUSE = re.compile(r"([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)")
_ACTION = re.compile(r"([-+=])([rwxXst]*|[ugo])")
_OCTAL = re.compile(r"([-+=]?)([0-7]+)")
SETUID = "setuid"
SETGID = "setgid"


def is_mode(text: str) -> bool:
    if _OCTAL.fullmatch(text):
        return int(text.lstrip("-+="), 8) <= 0o7777
    return bool(text) and all(_CLAUSE.fullmatch(c) for c in text.split(","))


def special_bits_set(text: str) -> frozenset[str]:
    """The special bits ``text`` sets (not those it clears or keeps)."""
    octal = _OCTAL.fullmatch(text)
    if octal:
        if octal.group(1) == "-" or len(octal.group(2).lstrip("0")) > 4:
            return frozenset()
        value = int(octal.group(2), 8)
        return frozenset(name for name, bit in ((SETUID, 0o4000), (SETGID, 0o2000)) if value & bit)
    found: set[str] = set()
    for clause in text.split(","):
        match = _CLAUSE.fullmatch(clause)
        if not match:
            return frozenset()  # chmod refuses the whole mode
        who = match.group(1) or "a"
        for op, perms in _ACTION.findall(match.group(2)):
            targets = set()
            if "u" in who or "a" in who:
                targets.add(SETUID)
            if "g" in who or "a" in who:
                targets.add(SETGID)
            if op in "+=" and "s" in perms:
                found |= targets
            elif (op == "-" and "s" in perms) or op == "=":
                found -= targets
    return frozenset(found)
