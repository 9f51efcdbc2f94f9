"""Shell patterns of ``${VAR#p}``, ``${VAR%p}`` and ``${VAR/p/r}``, as BuildKit evaluates them.

BuildKit (``frontend/dockerfile/shell/lex.go``, ``convertShellPatternToRegex``)
turns the pattern into a Go regular expression: ``*`` is ``.*`` (``.*?`` for
the shortest forms ``#`` and ``%``), ``?`` is ``.``, ``\\*``, ``\\?`` and
``\\\\`` are literal, ``\\}`` and ``\\/`` drop the backslash, any other escape
is an error, and there are no bracket expressions.  Go's ``.`` does not match a
newline.  Matching is leftmost-first, as in Go's ``regexp``.

Go's engine runs in linear time; Python's backtracks, and a pattern with
several stars takes polynomial time on a crafted value.  So patterns without a
star, or anchored ones with one star, use ``re`` (no catastrophic
backtracking is possible there), and all others run on the small Pike VM below,
which is O(len(value) * len(pattern)) like Go's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STAR = "*"
_ANY = "?"


class PatternError(ValueError):
    pass


@dataclass(frozen=True)
class Pattern:
    # each atom: ("lit", ch), ("any", ""), ("star", "")
    atoms: tuple[tuple[str, str], ...]
    greedy: bool

    @property
    def stars(self) -> int:
        return sum(1 for kind, _ in self.atoms if kind == "star")


def compile_pattern(pattern: str, greedy: bool) -> Pattern:
    atoms: list[tuple[str, str]] = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == _STAR:
            if not atoms or atoms[-1][0] != "star":  # ** is *: same language, same leftmost-first match
                atoms.append(("star", ""))
            continue
        if ch == _ANY:
            atoms.append(("any", ""))
            continue
        if ch == "\\":
            if i < n and pattern[i] in "}/":
                continue  # the escape belongs to ${...}, not to the pattern
            if i >= n or pattern[i] not in "*?\\":
                shown = pattern[i] if i < n else ""
                raise PatternError(f"invalid escape '\\{shown}'")
            ch = pattern[i]
            i += 1
        atoms.append(("lit", ch))
    return Pattern(tuple(atoms), greedy)


def reverse_pattern(pattern: str) -> str:
    """Reverse, keeping each ``\\x`` escape in order (BuildKit's ``reversePattern``)."""
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        if pattern[i] == "\\" and i != n - 1:
            out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return "".join(reversed(out))


def _python_regex(p: Pattern) -> re.Pattern[str]:
    parts = []
    for kind, ch in p.atoms:
        if kind == "lit":
            parts.append(re.escape(ch))
        elif kind == "any":
            parts.append("[^\\n]")
        else:
            parts.append("[^\\n]*" if p.greedy else "[^\\n]*?")
    return re.compile("".join(parts))


def search(p: Pattern, text: str, start: int = 0, *, anchored: bool = False) -> tuple[int, int] | None:
    """Leftmost-first match of ``p`` in ``text`` at or after ``start``."""
    if p.stars == 0 or (anchored and p.stars == 1):
        rx = _python_regex(p)
        match = rx.match(text, start) if anchored else rx.search(text, start)
        return match.span() if match else None
    return _pike(p, text, start, anchored)


def _pike(p: Pattern, text: str, start: int, anchored: bool) -> tuple[int, int] | None:
    atoms = p.atoms
    accept = len(atoms)
    greedy = p.greedy

    def add(state: int, origin: int, into: list[tuple[int, int]], seen: set[int]) -> None:
        # after compile, a star is never followed by a star: at most two steps
        if state in seen:
            return
        seen.add(state)
        if state < accept and atoms[state][0] == "star":
            if greedy:
                into.append((state, origin))
                add(state + 1, origin, into, seen)
            else:
                add(state + 1, origin, into, seen)
                into.append((state, origin))
        else:
            into.append((state, origin))

    threads: list[tuple[int, int]] = []
    seen: set[int] = set()
    found: tuple[int, int] | None = None
    n = len(text)
    pos = start
    while True:
        if found is None and (not anchored or pos == start):
            add(0, pos, threads, seen)  # a new start has the lowest priority
        if not threads:
            if found is not None or anchored or pos >= n:
                return found
            pos += 1
            continue
        following: list[tuple[int, int]] = []
        next_seen: set[int] = set()
        ch = text[pos] if pos < n else ""
        for state, origin in threads:
            if state == accept:
                found = (origin, pos)
                break  # lower-priority threads lose to this match
            if not ch:
                continue
            kind, lit = atoms[state]
            if kind == "lit":
                if ch == lit:
                    add(state + 1, origin, following, next_seen)
            elif ch != "\n":
                add(state + 1 if kind == "any" else state, origin, following, next_seen)
        if pos >= n:
            return found
        threads, seen = following, next_seen
        pos += 1


def trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = search(compile_pattern(pattern, greedy), value, anchored=True)
    return value[match[1] :] if match else value


def trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # as BuildKit: reverse pattern and value to turn the rightmost search into a leftmost one
    return trim_prefix(reverse_pattern(pattern), value[::-1], greedy)[::-1]


_TEMPLATE_NAME = re.compile(r"\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand_template(replacement: str, matched: str) -> str:
    """Go's ``Regexp.Expand`` for a pattern without groups: ``$$`` is ``$``, ``$0`` the match, other names empty."""
    if "$" not in replacement:
        return replacement
    out: list[str] = []
    i = 0
    while i < len(replacement):
        ch = replacement[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if replacement.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        match = _TEMPLATE_NAME.match(replacement, i)
        if match is None:
            out.append("$")  # malformed: Go keeps the $ as text
            i += 1
            continue
        name = match.group(1) or match.group(2)
        if name.strip("0") == "":
            out.append(matched)
        i = match.end()
    return "".join(out)


def replace(pattern: str, value: str, replacement: str, replace_all: bool, *, template: bool = False) -> str:
    """``${VAR/p/r}`` (first match, literal replacement) or ``${VAR//p/r}`` (Go's ReplaceAllString)."""
    p = compile_pattern(pattern, True)
    if not replace_all:
        match = search(p, value)
        return value if match is None else value[: match[0]] + replacement + value[match[1] :]
    # Go's Regexp.ReplaceAllString: successive non-overlapping matches; an empty
    # match right after the previous match is not replaced; always advance.
    out: list[str] = []
    last_end = 0
    pos = 0
    n = len(value)
    while pos <= n:
        match = search(p, value, pos)
        if match is None:
            break
        a, b = match
        out.append(value[last_end:a])
        if b > last_end or a == 0:
            out.append(_expand_template(replacement, value[a:b]) if template else replacement)
        last_end = b
        pos = pos + 1 if pos + 1 > b else b
    out.append(value[last_end:])
    return "".join(out)
