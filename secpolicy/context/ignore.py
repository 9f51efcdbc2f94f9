""".dockerignore files: read like BuildKit's ``ignorefile.ReadAll``, matched like moby/patternmatcher v0.6.1.

Everything here follows the Go source line by line, because the details
decide which secrets reach a build:

* ``read_lines`` is ``ReadAll``: split on ``\\n`` (one trailing ``\\r``
  dropped), a BOM on the first line dropped, ``#`` in column 1 is a comment,
  Go's ``TrimSpace``, ``!`` then trim again, Go's ``filepath.Clean``, one
  leading ``/`` dropped.  A line over 64 KiB fails the build (bufio's token
  limit).
* ``PatternMatcher`` is ``patternmatcher.New``: the syntax check of Go's
  ``filepath.Match`` (a bad pattern fails the build), and each pattern's
  translation into an exact, prefix, suffix or regexp match, including the
  suffix quirk (``**.pem`` is ``HasSuffix(path, ".pem")``).  Regexps are
  Go RE2 syntax; they are carried over to Python's ``re`` with ``\\Z`` for
  ``$`` and the POSIX classes spelled out.
* Two ways to decide, as upstream has two: ``matches_or_parent_matches``
  (the documented semantics: the last pattern matching the path or an
  ancestor decides) and ``matches_using_parent_results`` (what the walkers
  run, with one bit per pattern inherited from the parent directory).  They
  can disagree; the walk module reports it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

MAX_LINE = 64 * 1024  # bufio.MaxScanTokenSize: a longer line makes ReadAll fail
MAX_PATTERNS = 10_000  # each path is checked against every pattern: beyond this a walk could take hours
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SHOULD_ESCAPE = frozenset(".+()|{}$")
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class IgnoreError(ValueError):
    """The ignore file would make the build fail; ``line`` is 1-based where known."""

    def __init__(
        self, message: str, line: int | None = None, reason: str | None = None, *, build_fails: bool = True
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.reason = reason or message  # without the file name that ``message`` may lead with
        self.build_fails = build_fails  # False: secpolicy cannot judge it, though the build would run


def go_trim_space(text: str) -> str:
    return text.strip(_GO_SPACE)


def go_clean(path: str) -> str:
    """Go's ``path.Clean`` (``filepath.Clean`` on Unix): lexical, ``..`` at the root dropped."""
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(segment)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


@dataclass(frozen=True)
class Line:
    """One pattern of an ignore file, with the line it came from (1-based)."""

    text: str
    line: int


def read_lines(data: str) -> list[Line]:
    """``ignorefile.ReadAll``: the patterns of an ignore file, in order."""
    out: list[Line] = []
    for number, raw in enumerate(data.split("\n"), start=1):
        # bufio.Scanner fails on a token that fills its 64 KiB buffer: counted before \r and the BOM go
        if len(raw.encode("utf-8", "surrogateescape")) >= MAX_LINE:
            raise IgnoreError(
                f"line {number} is longer than 64 KiB: the build fails (bufio.Scanner: token too long)", number
            )
        if raw.endswith("\r"):
            raw = raw[:-1]
        if number == 1 and raw.startswith("\ufeff"):
            raw = raw[1:]
        if raw.startswith("#"):
            continue  # a comment only in column 1: "  # x" is the pattern "# x"
        pattern = go_trim_space(raw)
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = go_trim_space(pattern[1:])
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        out.append(Line(("!" + pattern) if invert else pattern, number))
    # the last element of split is the text after the final newline: empty for a terminated file
    return out


# -- Go's filepath.Match, for its syntax errors (patternmatcher.New calls Match(p, ".")) --


class _BadPattern(Exception):
    pass


def _scan_chunk(pattern: str) -> tuple[bool, str, str]:
    star = False
    while pattern.startswith("*"):
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            break
        i += 1
    return star, pattern[:i], pattern[i:]


def _get_esc(chunk: str) -> tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise _BadPattern
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise _BadPattern
    r, rest = chunk[0], chunk[1:]
    if not rest:
        raise _BadPattern
    return r, rest


def _match_chunk(chunk: str, s: str) -> tuple[str, bool]:
    failed = False
    while chunk:
        if not failed and not s:
            failed = True
        c = chunk[0]
        if c == "[":
            r = ""
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = False
            if chunk.startswith("^"):
                negated = True
                chunk = chunk[1:]
            matched = False
            ranges = 0
            while True:
                if chunk.startswith("]") and ranges > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                if lo <= r <= hi and r:
                    matched = True
                ranges += 1
            if matched == negated:
                failed = True
        elif c == "?":
            if not failed:
                if s[0] == "/":
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise _BadPattern
            if not failed:
                if chunk[0] != s[0]:
                    failed = True
                s = s[1:]
            chunk = chunk[1:]
    if failed:
        return "", False
    return s, True


def go_match(pattern: str, name: str) -> bool:
    """``filepath.Match`` on Unix; raises ``_BadPattern`` for a syntax error anywhere in ``pattern``."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and not chunk:
            return "/" not in name
        rest, ok = _match_chunk(chunk, name)
        if ok and (not rest or pattern):
            name = rest
            continue
        if star:
            found = False
            i = 0
            while i < len(name) and name[i] != "/":
                rest, ok = _match_chunk(chunk, name[i + 1 :])
                if ok:
                    if not pattern and rest:
                        i += 1
                        continue
                    name = rest
                    found = True
                    break
                i += 1
            if found:
                continue
        while pattern:
            _, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return not name


# -- patterns ------------------------------------------------------------------

EXACT, PREFIX, SUFFIX, REGEXP = "exact", "prefix", "suffix", "regexp"


@dataclass
class Pattern:
    text: str  # cleaned, without "!"
    exclusion: bool
    line: int | None = None  # in the ignore file, when read from one
    kind: str = ""
    regex: re.Pattern[str] | None = None
    error: str | None = None  # the regexp Go would fail to compile: matching fails the build
    judged: bool = True  # False: Go takes the regexp, secpolicy cannot match it exactly (``error`` says why)

    tokens: list[str] | None = None  # matched by a linear-time automaton instead of backtracking re

    def __post_init__(self) -> None:
        self.kind, go_regex = _compile(self.text)
        if self.kind == REGEXP:
            tokens = _tokens(go_regex)
            if tokens is not None and sum(t in (_STAR, _DIRS, _ALL) for t in tokens) >= 3:
                self.tokens = tokens  # "*a*a*a*b" would make Python's re backtrack for ever; RE2 does not
            try:
                self.regex = re.compile(_python_regex(go_regex), re.ASCII)
            except re.error as exc:
                self.error = f"{self.text!r} is not a valid pattern ({exc})"
            except _Unjudged as exc:
                self.error = f"{self.text!r} uses {exc}, which secpolicy does not match"
                self.judged = False

    @property
    def source(self) -> str:
        return ("!" if self.exclusion else "") + self.text

    def matches_ancestor(self, path: str) -> bool:
        """Does the pattern match one of the directories above ``path`` (``a``, ``a/b`` of ``a/b/c``)?"""
        dirs = path.split("/")[:-1]
        return any(self.match("/".join(dirs[: i + 1])) for i in range(len(dirs)))

    def match(self, path: str) -> bool:
        if self.error is not None:
            if not self.judged:
                raise IgnoreError(self.error, self.line, build_fails=False)
            raise IgnoreError(f"{self.error}: the build fails", self.line)
        if self.kind == EXACT:
            return path == self.text
        if self.kind == PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind == SUFFIX:
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        if self.tokens is not None:
            return _nfa_match(self.tokens, path)
        return self.regex is not None and self.regex.match(path) is not None


def _compile(pattern: str) -> tuple[str, str]:
    """``Pattern.compile``: the match type and the Go regexp (meaningful for REGEXP only)."""
    out = ["^"]
    kind = EXACT
    # text/scanner skips a byte order mark at the start of its input: a regexp never sees it
    # (while the exact, prefix and suffix tests still compare the pattern as written)
    i = 1 if pattern.startswith("\ufeff") else 0
    n = len(pattern)
    first = True
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    if kind == EXACT:
                        kind = PREFIX
                    else:
                        out.append(".*")
                        kind = REGEXP
                else:
                    out.append("(.*/)?")
                    kind = REGEXP
                if first:
                    kind = SUFFIX
            else:
                out.append("[^/]*")
                kind = REGEXP
        elif ch == "?":
            out.append("[^/]")
            kind = REGEXP
        elif ch in _SHOULD_ESCAPE:
            out.append("\\" + ch)
        elif ch == "\\":
            if i < n:
                out.append("\\" + pattern[i])
                i += 1
                kind = REGEXP
            else:
                out.append("\\")
        elif ch in "[]":
            out.append(ch)
            kind = REGEXP
        else:
            out.append(ch)
        first = False
    if kind == REGEXP:
        out.append("$")
    # "**/**/**/x" and "***": repeats of the same wildcard match the same strings as one, and Python's
    # backtracking re (unlike Go's RE2) would take exponential time on them
    collapsed: list[str] = []
    for piece in out:
        if piece in ("(.*/)?", "[^/]*") and collapsed and collapsed[-1] == piece:
            continue
        collapsed.append(piece)
    return kind, "".join(collapsed)


_STAR, _ONE, _DIRS, _ALL = "star", "one", "dirs", "all"
_WILDCARDS = {"[^/]*": _STAR, "[^/]": _ONE, "(.*/)?": _DIRS, ".*": _ALL}


def _tokens(go_regex: str) -> list[str] | None:
    """The regexp of a pattern as wildcard, class and literal tokens; None for what only a regexp can take."""
    body = go_regex[1:-1] if go_regex.startswith("^") and go_regex.endswith("$") else None
    if body is None:
        return None
    tokens: list[str] = []
    i = 0
    while i < len(body):
        for text, token in _WILDCARDS.items():
            if body.startswith(text, i):
                tokens.append(token)
                i += len(text)
                break
        else:
            if body[i] == "\\" and i + 1 < len(body) and not body[i + 1].isalnum() and body[i + 1].isascii():
                tokens.append("=" + body[i + 1])  # an escaped punctuation character is that character in RE2
                i += 2
            elif body.startswith("\\Q", i):
                if body.find("\\E", i) < 0:
                    return None  # the literal runs on over the final "$": the regexp is not anchored at the end
                text, i = _escape(body, i, False)
                tokens += ["=" + ch for ch in re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)]
            elif body[i] == "\\" and body[i + 1 : i + 2] not in ("A", "b", "B", "z", ""):
                try:
                    text, i = _escape(body, i, False)  # one character: a class, a control or a code
                except (re.error, _Unjudged):
                    return None  # the regexp reports it
                tokens.append("~" + text)
            elif body[i] == "[":
                end = _class_end(body, i)
                if end is None:
                    return None
                try:
                    tokens.append("~" + _python_regex(body[i:end]))
                    re.compile(tokens[-1][1:], re.ASCII)
                except (re.error, _Unjudged):
                    return None  # the regexp reports it
                i = end
            elif body[i] in "]\\^$":
                return None  # letter escapes and bare anchors: left to the regexp
            else:
                tokens.append("=" + body[i])
                i += 1
    return tokens


def _class_end(body: str, start: int) -> int | None:
    """Where the class opening at ``start`` ends (past its "]"), if it is a plain one the automaton can take."""
    i = start + 1
    if body.startswith("^", i):
        i += 1
    if body.startswith("]", i):
        i += 1  # a "]" first is a member
    while i < len(body):
        c = body[i]
        if c == "\\":
            if i + 1 < len(body) and body[i + 1].isalnum():
                return None  # \d and friends: the regexp knows them
            i += 2
            continue
        if c == "[":
            if body.startswith("[:", i):
                close = body.find(":]", i + 2)
                if close < 0:
                    return None
                i = close + 2
                continue
            return None  # a "[" inside: wildcards that compile() wrote into the class
        if c == "]":
            return i + 1
        i += 1
    return None


_CLASSES: dict[str, re.Pattern[str]] = {}


def _nfa_match(tokens: list[str], path: str) -> bool:
    """Thompson simulation of the token list over ``path``: time linear in len(path) x len(tokens)."""
    end = len(tokens)

    def closure(states: set[tuple[int, int]]) -> set[tuple[int, int]]:
        todo = list(states)
        seen = set(states)
        while todo:
            k, phase = todo.pop()
            if k < end and tokens[k] in (_STAR, _ALL, _DIRS) and phase in (0, 2):
                nxt = (k + 1, 0)  # a wildcard may match nothing, a directory run may stop after its "/"
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    states = closure({(0, 0)})
    for ch in path:
        following: set[tuple[int, int]] = set()
        for k, phase in states:
            if k >= end:
                continue
            token = tokens[k]
            if token == _STAR:
                if ch != "/":
                    following.add((k, 0))
            elif token == _ALL:
                if ch != "\n":  # RE2's "." does not match a newline
                    following.add((k, 0))
            elif token == _DIRS:
                if ch != "\n":
                    following.add((k, 2 if ch == "/" else 1))
            elif token == _ONE:
                if ch != "/":
                    following.add((k + 1, 0))
            elif token[0] == "~":
                compiled = _CLASSES.get(token)
                if compiled is None:
                    compiled = _CLASSES[token] = re.compile(token[1:], re.ASCII)
                if compiled.fullmatch(ch):
                    following.add((k + 1, 0))
            elif token[1:] == ch and phase == 0:
                following.add((k + 1, 0))
        if not following:
            return False
        states = closure(following)
    return (end, 0) in states


class _Unjudged(Exception):
    """Go's regexp takes it, but Python's ``re`` cannot say exactly what it matches."""


_GO_CONTROL = {"a": "\\a", "f": "\\f", "n": "\\n", "r": "\\r", "t": "\\t", "v": "\\v"}
_GO_SPACE_CLASS = "\\t\\n\\f\\r "  # RE2's \s: no \v, unlike Python's
_UNICODE_CATEGORIES = frozenset("CLMNPSZ")  # one-letter \pX names; "{" never follows: the glob escapes it
_OCTAL = "01234567"
_HEX = frozenset("0123456789abcdefABCDEF")


def _escape(go: str, i: int, in_class: bool) -> tuple[str, int]:
    """The escape at ``go[i]`` (a backslash) as Python ``re`` text, and the index after it.

    As Go's regexp/syntax ``parse.go`` reads it: ``re.error`` where Go
    refuses the escape (the build fails: ``\\Z``, ``\\u``, ``\\C``, a
    backreference, ``\\b`` in a class), ``_Unjudged`` where Go takes what
    Python cannot express exactly (Unicode classes).
    """
    if i + 1 >= len(go):
        raise re.error("trailing backslash")
    c, j = go[i + 1], i + 2
    if c.isascii() and not c.isalnum():
        return "\\" + c, j  # escaped punctuation is itself
    if not in_class:
        if c in "AbB":
            return "\\" + c, j
        if c == "z":
            return "\\Z", j
        if c == "Q":  # \Q...\E: everything up to the first \E (or the end) is literal
            end = go.find("\\E", j)
            literal, after = (go[j:], len(go)) if end < 0 else (go[j:end], end + 2)
            return "".join(re.escape(ch) for ch in literal), after
    if c in "dDwW":
        return "\\" + c, j  # ASCII classes in both, with re.ASCII
    if c == "s":
        return (_GO_SPACE_CLASS if in_class else f"[{_GO_SPACE_CLASS}]"), j
    if c == "S":
        if in_class:
            raise _Unjudged("\\S inside a class")
        return f"[^{_GO_SPACE_CLASS}]", j
    if c in "pP":
        name = go[j : j + 1]
        if name in _UNICODE_CATEGORIES:
            raise _Unjudged(f"the Unicode class \\{c}{name}")
        raise re.error(f"invalid character class range \\{c}{name}")
    if c in _GO_CONTROL:
        return _GO_CONTROL[c], j
    if c == "x":
        digits = go[j : j + 2]
        if len(digits) == 2 and all(d in _HEX for d in digits):
            return "\\x" + digits, j + 2
        raise re.error("invalid escape \\x")
    if c in _OCTAL and (c == "0" or go[j : j + 1] in tuple(_OCTAL)):
        value, k = int(c), j
        while k < len(go) and k < j + 2 and go[k] in _OCTAL:
            value, k = value * 8 + int(go[k]), k + 1
        return f"\\u{value:04x}", k  # Python reads \12 as a group reference; RE2 as octal
    raise re.error(f"invalid escape \\{c}")


def _python_regex(go: str) -> str:
    """Go RE2 text to Python ``re``: ``$`` is the end of the text, POSIX classes spelled out, set syntax escaped."""
    out: list[str] = []
    i = 0
    in_class = False
    class_start = 0
    while i < len(go):
        c = go[i]
        if c == "\\":
            text, i = _escape(go, i, in_class)
            out.append(text)
            continue
        if in_class:
            if c == "]" and i > class_start:
                in_class = False
                out.append("]")
            elif c == "[" and go.startswith("[:", i):
                end = go.find(":]", i + 2)
                name = go[i + 2 : end] if end > 0 else ""
                spelled = _POSIX.get(name.removeprefix("^"))
                if spelled is None:
                    raise re.error(f"invalid character class range [:{name}:]")
                i = end + 2
                if name.startswith("^"):
                    # Python's classes cannot hold a negated set beside other members: only [[:^x:]] alone
                    if i != class_start + len(name) + 4 or not go.startswith("]", i):
                        raise _Unjudged(f"[:{name}:] beside other class members")
                    negated = out[-1] == "^"
                    out[len(out) - (1 if negated else 0) :] = [spelled] if negated else ["^", spelled]
                    continue
                out.append(spelled)
                continue
            elif c in "[&~|":
                out.append("\\" + c)  # literal in a Go class; set operators in Python's future syntax
            else:
                out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append("[")
            i += 1
            if go.startswith("^", i):
                out.append("^")
                i += 1
            class_start = i  # a "]" right here is a literal member
            continue
        if c == "$" and i == len(go) - 1:
            out.append("\\Z")
        else:
            out.append(c)
        i += 1
    return "".join(out)


@dataclass
class MatchInfo:
    """Per pattern: did it match this directory or an ancestor (``MatchesUsingParentResults``)?"""

    parent_matched: list[bool] = field(default_factory=list)


class PatternMatcher:
    """``patternmatcher.New`` over patterns (raw strings, or the ``Line`` of an ignore file)."""

    def __init__(self, patterns: Sequence[str | Line]) -> None:
        if len(patterns) > MAX_PATTERNS:
            raise IgnoreError(
                f"{len(patterns)} patterns: secpolicy judges ignore files of at most {MAX_PATTERNS:,} patterns",
                build_fails=False,
            )
        self.patterns: list[Pattern] = []
        for item in patterns:
            text, line = (item.text, item.line) if isinstance(item, Line) else (item, None)
            p = go_trim_space(text)
            if not p:
                continue
            p = go_clean(p)
            exclusion = p.startswith("!")
            if exclusion:
                if len(p) == 1:
                    raise IgnoreError('illegal exclusion pattern: "!"', line)
                p = p[1:]
            try:
                go_match(p, ".")
            except (_BadPattern, IndexError):
                raise IgnoreError(f"syntax error in pattern {p!r}", line) from None
            self.patterns.append(Pattern(p, exclusion, line))
        self.exclusions = any(p.exclusion for p in self.patterns)

    def matches_or_parent_matches(self, path: str) -> tuple[bool, Pattern | None]:
        """The documented semantics, and the pattern that decided (None: no pattern matched)."""
        matched = False
        decided: Pattern | None = None
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            if pattern.match(path) or pattern.matches_ancestor(path):
                matched = not pattern.exclusion
                decided = pattern
        return matched, decided

    def matches_using_parent_results(self, path: str, parent: MatchInfo) -> tuple[bool, MatchInfo, Pattern | None]:
        """What the walkers run: patterns that matched the parent count as matched, the rest see ``path`` alone."""
        inherited = parent.parent_matched
        matched = False
        decided: Pattern | None = None
        info = MatchInfo([False] * len(self.patterns))
        for index, pattern in enumerate(self.patterns):
            hit = inherited[index] if inherited else False
            if not hit:
                if pattern.exclusion != matched:
                    continue
                # with no parent information the ancestors are tried here, as upstream does
                hit = pattern.match(path) or (not inherited and pattern.matches_ancestor(path))
            info.parent_matched[index] = hit
            if hit:
                matched = not pattern.exclusion
                decided = pattern
        return matched, info, decided

    def matches(self, path: str) -> bool:
        """The deprecated ``Matches``: the parent is tried only at the pattern's own depth."""
        matched = False
        parent = path.rpartition("/")[0]
        parents = parent.split("/") if parent else []
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue
            hit = pattern.match(path)
            depth = len(pattern.text.split("/"))
            if not hit and parent and depth <= len(parents):
                hit = pattern.match("/".join(parents[:depth]))
            if hit:
                matched = not pattern.exclusion
        return matched
