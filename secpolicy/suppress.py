"""Inline suppressions in Dockerfile comments.

``# secpolicy: ignore=DF101,DF102 reason=builder only`` on the comment lines
right above an instruction covers that instruction (all of its lines);
``# secpolicy: ignore-file=DF104 reason=…`` covers the whole file.  A
malformed or unknown suppression is itself a finding (SP002).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

_PRAGMA = re.compile(r"^\s*#\s*secpolicy\s*:\s*(?P<body>.*)$")
_ITEM = re.compile(r"(?P<key>ignore-file|ignore)\s*=\s*(?P<ids>[A-Za-z0-9_, ]*?)(?=\s+reason\s*=|\s*$)")
_REASON = re.compile(r"\breason\s*=\s*(?P<reason>.+)$")
_ID = re.compile(r"^[A-Z]+[0-9]{3}$")


@dataclass
class Suppressions:
    file_ids: dict[str, str | None] = field(default_factory=dict)
    by_line: dict[int, dict[str, str | None]] = field(default_factory=dict)  # pragma line -> ids
    problems: list[tuple[int, str]] = field(default_factory=list)

    def lookup(self, rule: str, first_line: int) -> tuple[bool, str | None]:
        """Is ``rule`` suppressed for the instruction starting at ``first_line``?"""
        if rule in self.file_ids:
            return True, self.file_ids[rule]
        line = first_line - 1
        while line in self.by_line:
            ids = self.by_line[line]
            if rule in ids:
                return True, ids[rule]
            line -= 1
        return False, None


def scan(lines: list[str], known_rules: Collection[str]) -> Suppressions:
    """Find pragmas; ``by_line`` also records plain comment lines so blocks chain."""
    out = Suppressions()
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped.startswith("#"):
            continue
        match = _PRAGMA.match(text)
        if not match:
            out.by_line[number] = {}
            continue
        body = match.group("body").strip()
        item = _ITEM.match(body)
        if not item:
            out.problems.append(
                (
                    number,
                    f"cannot read suppression {stripped!r}: expected 'ignore=ID[,ID] reason=...' or 'ignore-file=...'",
                )
            )
            continue
        reason_match = _REASON.search(body)
        reason = reason_match.group("reason").strip() if reason_match else None
        ids = [i.strip() for i in item.group("ids").split(",") if i.strip()]
        if not ids:
            out.problems.append((number, "suppression names no rule"))
            continue
        entry: dict[str, str | None] = {}
        for rule in ids:
            if not _ID.match(rule) or rule not in known_rules:
                out.problems.append((number, f"suppression names unknown rule {rule!r}"))
            else:
                entry[rule] = reason
        if item.group("key") == "ignore-file":
            out.file_ids.update(entry)
            out.by_line[number] = {}
        else:
            out.by_line[number] = entry
    return out
