"""Inline suppressions in Dockerfile comments.

``# secpolicy: ignore=DF101,DF102 reason=builder only`` in the block of
comment lines right above an instruction covers that instruction (all of its
lines); ``# secpolicy: ignore-file=DF104 reason=…`` covers the whole file.
``ignore=DF301:DB_PASSWORD`` covers only the finding about that ENV/ARG key,
so a suppression on a multi-key ``ENV`` never hides a key added later.
``reason=`` is required.  A malformed suppression, one without a reason, or
one naming an unknown rule is itself a finding (SP002) and suppresses nothing;
so is one that matches no finding (it has gone stale: remove it).

Pragmas of the tools users migrate from keep working, through the rules'
aliases: hadolint's ``# hadolint ignore=DL3002`` (above an instruction) and
``# hadolint global ignore=DL3002`` (the file), and checkov's
``# checkov:skip=CKV_DOCKER_3: reason`` (the file, as checkov reads it).
They need no ``reason=``; an id with no secpolicy equivalent is left to its
own tool.

Suppressions are read from the parser's comment lines only: a heredoc body,
a line inside a continued instruction or inside a JSON array is never one.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

_PREFIX = re.compile(r"#[ \t]*secpolicy[ \t]*:")
_REASON = re.compile(r"(?:^|[ \t])reason[ \t]*=")
_ITEM = re.compile(r"([A-Z][A-Z0-9]*[0-9]{3})(?::([A-Za-z_][A-Za-z0-9_.-]*))?")
_SEPARATORS = re.compile(r"[ \t,]+")
_HADOLINT = re.compile(r"#[ \t]*hadolint[ \t]+(global[ \t]+)?ignore[ \t]*=[ \t]*([A-Z0-9, \t]+)")
_CHECKOV = re.compile(r"#[ \t]*checkov[ \t]*:[ \t]*skip[ \t]*=[ \t]*([A-Za-z0-9_]+)(?:[ \t]*:[ \t]*(.*))?")

# rule -> list of (key or None for every key, reason)
Entries = dict[str, list[tuple[str | None, str]]]


@dataclass
class Tracked:
    """Which suppressions were used, so that the stale ones can be reported (each entry is a distinct tuple)."""

    origins: dict[int, tuple[int, str, str | None]] = field(default_factory=dict)  # id(entry) -> line, rule, key
    used: set[int] = field(default_factory=set)

    def add(self, entries: Entries, rule: str, key: str | None, reason: str, line: int) -> None:
        entry = (key, reason)
        entries.setdefault(rule, []).append(entry)
        self.origins[id(entry)] = (line, rule, key)

    def match(self, entries: Entries, rule: str, key: str | None) -> str | None:
        for entry in entries.get(rule, ()):
            if entry[0] is None or entry[0] == key:
                self.used.add(id(entry))
                return entry[1]
        return None

    def unused(self, judged: Collection[str]) -> list[tuple[int, str]]:
        """SP002 messages for the suppressions of rules that ran (``judged``) and hid nothing."""
        out = []
        for ident, (line, rule, key) in self.origins.items():
            if ident not in self.used and rule in judged:
                what = f"{rule}:{key}" if key else rule
                out.append((line, f"suppression of {what} matches no finding: remove it (the finding is gone)"))
        return sorted(set(out))


@dataclass
class Suppressions(Tracked):
    file_ids: Entries = field(default_factory=dict)
    before: dict[int, Entries] = field(default_factory=dict)  # first line of an instruction -> entries
    problems: list[tuple[int, str]] = field(default_factory=list)

    def lookup(self, rule: str, first_line: int, key: str | None = None) -> tuple[bool, str | None]:
        """Is ``rule`` (about ``key``) suppressed for the instruction starting at ``first_line``?"""
        for entries in (self.file_ids, self.before.get(first_line, {})):
            reason = self.match(entries, rule, key)
            if reason is not None:
                return True, reason
        return False, None


def scan(
    comments: Iterable[tuple[int, str]],
    known_rules: Collection[str],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Suppressions:
    """Read the pragmas of ``comments`` ((line, text) of the parser's comment lines, in order).

    ``aliases`` maps ``tool:ID`` (``hadolint:DL3002``) to the rules that have it among their aliases.
    """
    out = Suppressions()
    block: Entries = {}
    last_line = -1
    for number, text in comments:
        if number != last_line + 1 and block:
            out.before.setdefault(last_line + 1, {}).update(block)
            block = {}
        last_line = number
        if aliases and _migrated(number, text, aliases, out, block):
            continue
        entry = pragma(number, text, known_rules, out.problems)
        if entry is None:
            continue
        key_word, items, reason = entry
        target = out.file_ids if key_word == "ignore-file" else block
        for rule, key in items:
            out.add(target, rule, key, reason, number)
    if block:
        out.before.setdefault(last_line + 1, {}).update(block)
    return out


def _migrated(number: int, text: str, aliases: Mapping[str, Sequence[str]], out: Suppressions, block: Entries) -> bool:
    """A hadolint or checkov pragma: its ids through the aliases (True when the comment is one)."""
    hadolint = _HADOLINT.match(text)
    if hadolint is not None:
        target = out.file_ids if hadolint.group(1) else block
        for tool_id in (w for w in _SEPARATORS.split(hadolint.group(2)) if w):
            for rule in aliases.get(f"hadolint:{tool_id}", ()):
                out.add(target, rule, None, f"hadolint ignore={tool_id}", number)
        return True
    checkov = _CHECKOV.match(text)
    if checkov is not None:
        tool_id, reason = checkov.group(1), (checkov.group(2) or "").strip()
        for rule in aliases.get(f"checkov:{tool_id}", ()):
            out.add(out.file_ids, rule, None, reason or f"checkov:skip={tool_id}", number)
        return True
    return False


def alias_map(rules: Iterable[object]) -> dict[str, tuple[str, ...]]:
    """``tool:ID`` -> the secpolicy rules that list it among their aliases."""
    out: dict[str, list[str]] = {}
    for rule in rules:
        for alias in getattr(rule, "aliases", ()):
            out.setdefault(alias, []).append(getattr(rule, "id"))  # noqa: B009 - duck-typed Rule
    return {k: tuple(v) for k, v in out.items()}


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
