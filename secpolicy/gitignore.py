""".gitignore patterns, matched the way git matches them, in linear time.

A linted repository's ``.gitignore`` is untrusted input: a pattern such as
``*a*a*a*a*a*a*b`` compiled to a backtracking regular expression takes
exponential time on a long name.  This matcher follows gitignore(5) and git's
``wildmatch`` with ``WM_PATHNAME``, segment by segment, with a glob matcher
that never backtracks more than once per star (O(name x pattern)).

* blank lines and ``#`` comments are skipped (``\\#`` is a literal ``#``);
  trailing spaces are dropped unless escaped;
* ``!`` negates (``\\!`` is a literal ``!``); the last matching pattern wins;
* a trailing ``/`` matches directories only (one is removed: ``a//`` matches nothing);
* a pattern with a ``/`` at the start or in the middle is anchored to the
  directory of the ``.gitignore``; one without matches a name at any depth;
* ``**/`` at the start, ``/**`` at the end and ``/**/`` in the middle match
  any number of directories; any other ``**`` is ``*``;
* ``*`` and ``?`` never match ``/``; ``[...]`` with ``!``/``^``, ranges and
  ``[:class:]`` (a bracket never matches ``/``; an unclosed one makes the
  pattern match nothing, as wildmatch aborts); a backslash escapes the next
  character.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

# an atom: ("lit", ch) | ("any", "") | ("star", "") | ("class", spec)
Atom = tuple[str, object]
_POSIX_CLASSES: dict[str, Callable[[str], bool]] = {
    "alnum": str.isalnum,
    "alpha": str.isalpha,
    "blank": lambda c: c in " \t",
    "cntrl": lambda c: ord(c) < 32 or ord(c) == 127,
    "digit": lambda c: "0" <= c <= "9",
    "graph": lambda c: c.isprintable() and not c.isspace(),
    "lower": str.islower,
    "print": str.isprintable,
    "punct": lambda c: c.isprintable() and not c.isalnum() and not c.isspace(),
    "space": str.isspace,
    "upper": str.isupper,
    "xdigit": lambda c: c in "0123456789abcdefABCDEF",
}


@dataclass(frozen=True)
class _Class:
    negated: bool
    chars: frozenset[str]
    ranges: tuple[tuple[str, str], ...]
    named: tuple[str, ...]

    def matches(self, ch: str) -> bool:
        hit = (
            ch in self.chars
            or any(lo <= ch <= hi for lo, hi in self.ranges)
            or any(_POSIX_CLASSES[name](ch) for name in self.named)
        )
        return hit != self.negated


def _parse_class(text: str, start: int) -> tuple[_Class, int] | None:
    """A bracket expression starting at ``text[start] == '['``; None when it never closes (then '[' is literal)."""
    i = start + 1
    negated = i < len(text) and text[i] in "!^"
    if negated:
        i += 1
    chars: set[str] = set()
    ranges: list[tuple[str, str]] = []
    named: list[str] = []
    first = True
    while i < len(text):
        ch = text[i]
        if ch == "]" and not first:
            return _Class(negated, frozenset(chars), tuple(ranges), tuple(named)), i + 1
        first = False
        if ch == "[" and text.startswith("[:", i):
            end = text.find(":]", i + 2)
            if end > 0 and text[i + 2 : end] in _POSIX_CLASSES:
                named.append(text[i + 2 : end])
                i = end + 2
                continue
        if ch == "\\" and i + 1 < len(text):
            i += 1
            ch = text[i]
        if i + 2 < len(text) and text[i + 1] == "-" and text[i + 2] != "]":
            hi = text[i + 2]
            if hi == "\\" and i + 3 < len(text):
                hi = text[i + 3]
                i += 1
            ranges.append((ch, hi))
            i += 3
            continue
        chars.add(ch)
        i += 1
    return None


def _compile_segment(text: str) -> list[Atom]:
    atoms: list[Atom] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "*":
            if not atoms or atoms[-1][0] != "star":
                atoms.append(("star", ""))
            i += 1
        elif ch == "?":
            atoms.append(("any", ""))
            i += 1
        elif ch == "[":
            parsed = _parse_class(text, i)
            if parsed is None:
                return [("never", "")]  # wildmatch aborts on an unclosed bracket: the pattern matches nothing
            else:
                atoms.append(("class", parsed[0]))
                i = parsed[1]
        elif ch == "\\" and i + 1 < len(text):
            atoms.append(("lit", text[i + 1]))
            i += 2
        else:
            atoms.append(("lit", ch))
            i += 1
    return atoms


def _atom_matches(atom: Atom, ch: str) -> bool:
    kind, value = atom
    if kind == "never":
        return False
    if kind == "lit":
        return ch == value
    if kind == "any":
        return True
    return isinstance(value, _Class) and value.matches(ch)


def glob_match(atoms: list[Atom], name: str) -> bool:
    """Whole-name match of one segment; each star is retried at most once per position."""
    p = n = 0
    star_p = star_n = -1
    while n < len(name):
        if p < len(atoms) and atoms[p][0] == "star":
            star_p, star_n = p, n
            p += 1
        elif p < len(atoms) and _atom_matches(atoms[p], name[n]):
            p += 1
            n += 1
        elif star_p >= 0:
            # only the last star needs a new length: what came before it is fixed
            star_n += 1
            n = star_n
            p = star_p + 1
        else:
            return False
    while p < len(atoms) and atoms[p][0] == "star":
        p += 1
    return p == len(atoms) and atoms != [("never", "")]


_GLOBSTAR = "**"


@dataclass(frozen=True)
class Pattern:
    text: str
    negated: bool
    dir_only: bool
    anchored: bool
    segments: tuple[object, ...]  # a list of atoms per segment, or _GLOBSTAR
    line: int

    def matches(self, parts: tuple[str, ...], is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if not self.anchored:
            return glob_match(self.segments[0], parts[-1])  # type: ignore[arg-type]
        return _match_segments(self.segments, parts)


def _match_segments(segments: tuple[object, ...], parts: tuple[str, ...]) -> bool:
    # reachable[j]: the pattern's first i segments can match the path's first j parts
    reachable = [True] + [False] * len(parts)
    for segment in segments:
        following = [False] * (len(parts) + 1)
        if segment == _GLOBSTAR:
            seen = False
            for j in range(len(parts) + 1):
                seen = seen or reachable[j]
                following[j] = seen
        else:
            for j in range(len(parts)):
                if reachable[j] and glob_match(segment, parts[j]):  # type: ignore[arg-type]
                    following[j + 1] = True
        reachable = following
        if not any(reachable):
            return False
    return reachable[len(parts)]


def _strip_trailing_spaces(line: str) -> str:
    end = len(line)
    while end > 0 and line[end - 1] == " ":
        # a space preceded by an odd number of backslashes is escaped and stays
        slashes = 0
        k = end - 2
        while k >= 0 and line[k] == "\\":
            slashes += 1
            k -= 1
        if slashes % 2:
            break
        end -= 1
    return line[:end]


def parse_line(raw: str, line: int) -> Pattern | None:
    text = _strip_trailing_spaces(raw.rstrip("\r\n"))
    if not text or text.startswith("#"):
        return None
    negated = text.startswith("!")
    if negated or text.startswith("\\!") or text.startswith("\\#"):
        text = text[1:]
    dir_only = text.endswith("/") and not text.endswith("\\/")
    if dir_only:
        text = text[:-1]  # one slash only, as git: "a//" is "a/" for directories, which matches nothing
    if not text:
        return None
    anchored = "/" in text
    text = text[1:] if text.startswith("/") else text  # one slash anchors; "//x" would need an empty name
    segments: list[object] = []
    for segment in text.split("/"):
        if segment == _GLOBSTAR:
            if not segments or segments[-1] != _GLOBSTAR:
                segments.append(_GLOBSTAR)
        else:
            segments.append(_compile_segment(segment))
    if segments and segments[-1] == _GLOBSTAR:
        segments.append([("star", "")])  # "foo/**": everything inside foo, not foo itself
    if not anchored and len(segments) != 1:
        anchored = True
    return Pattern(raw.rstrip("\r\n"), negated, dir_only, anchored, tuple(segments), line)


class IgnoreFile:
    """The patterns of one ``.gitignore`` (or ``--exclude`` list)."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.patterns = [p for i, raw in enumerate(lines, 1) if (p := parse_line(raw, i)) is not None]

    def verdict(self, parts: tuple[str, ...], is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by ``!``, None: no pattern matches."""
        for pattern in reversed(self.patterns):
            if pattern.matches(parts, is_dir):
                return not pattern.negated
        return None
