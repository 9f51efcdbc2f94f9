"""Inline suppressions in Dockerfile comments.

``# secpolicy: ignore=DF101,DF102 reason=builder only`` in the block of
comment lines right above an instruction covers that instruction (all of its
lines); ``# secpolicy: ignore-file=DF104 reason=…`` covers the whole file.
``ignore=DF301:DB_PASSWORD`` covers only the finding about that ENV/ARG key,
so a suppression on a multi-key ``ENV`` never hides a key added later.
``reason=`` is required.  A malformed suppression, one without a reason, or
one naming an unknown rule is itself a finding (SP002) and suppresses nothing.

Suppressions are read from the parser's comment lines only: a heredoc body,
a line inside a continued instruction or inside a JSON array is never one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

_PREFIX = re.compile(r"#[ \t]*secpolicy[ \t]*:")
_REASON = re.compile(r"(?:^|[ \t])reason[ \t]*=")
_ITEM = re.compile(r"([A-Z][A-Z0-9]*[0-9]{3})(?::([A-Za-z_][A-Za-z0-9_.-]*))?")
_SEPARATORS = re.compile(r"[ \t,]+")

# rule -> list of (key or None for every key, reason)
Entries = dict[str, list[tuple[str | None, str]]]


@dataclass
class Suppressions:
    file_ids: Entries = field(default_factory=dict)
    before: dict[int, Entries] = field(default_factory=dict)  # first line of an instruction -> entries
    problems: list[tuple[int, str]] = field(default_factory=list)

    def lookup(self, rule: str, first_line: int, key: str | None = None) -> tuple[bool, str | None]:
        """Is ``rule`` (about ``key``) suppressed for the instruction starting at ``first_line``?"""
        for entries in (self.file_ids, self.before.get(first_line, {})):
            for wanted, reason in entries.get(rule, ()):
                if wanted is None or wanted == key:
                    return True, reason
        return False, None


def _add(entries: Entries, rule: str, key: str | None, reason: str) -> None:
    entries.setdefault(rule, []).append((key, reason))


def scan(comments: Iterable[tuple[int, str]], known_rules: Collection[str]) -> Suppressions:
    """Read the pragmas of ``comments`` ((line, text) of the parser's comment lines, in order)."""
    out = Suppressions()
    block: Entries = {}
    last_line = -1
    for number, text in comments:
        if number != last_line + 1 and block:
            out.before.setdefault(last_line + 1, {}).update(block)
            block = {}
        last_line = number
        entry = pragma(number, text, known_rules, out.problems)
        if entry is None:
            continue
        key_word, items, reason = entry
        target = out.file_ids if key_word == "ignore-file" else block
        for rule, key in items:
            _add(target, rule, key, reason)
    if block:
        out.before.setdefault(last_line + 1, {}).update(block)
    return out


def pragma(
    number: int, text: str, known_rules: Collection[str], problems: list[tuple[int, str]]
) -> tuple[str, list[tuple[str, str | None]], str] | None:
    prefix = _PREFIX.match(text)
    if prefix is None:
        return None
    body = text[prefix.end() :].strip()
    reason_at = _REASON.search(body)
    head = body[: reason_at.start()] if reason_at else body
    reason = body[reason_at.end() :].strip() if reason_at else ""
    key_word, eq, ids = head.partition("=")
    key_word = key_word.strip()
    if not eq or key_word not in ("ignore", "ignore-file"):
        shown = text if len(text) <= 80 else text[:77] + "..."
        problems.append(
            (
                number,
                f"cannot read suppression {shown!r}: expected 'ignore=ID[,ID] reason=...' or 'ignore-file=ID[,ID] reason=...'",
            )
        )
        return None
    words = [w for w in _SEPARATORS.split(ids.strip()) if w]
    if not words:
        problems.append((number, "suppression names no rule"))
        return None
    items: list[tuple[str, str | None]] = []
    for word in words:
        match = _ITEM.fullmatch(word)
        if match is None or match.group(1) not in known_rules:
            problems.append((number, f"suppression names unknown rule {word!r}"))
            continue
        items.append((match.group(1), match.group(2)))
    if not reason:
        problems.append((number, "suppression has no reason: add reason=... (why this finding is accepted)"))
        return None
    return key_word, items, reason
