"""Word splitting and variable expansion with BuildKit's shell-word semantics.

BuildKit expands ``$VAR``/``${VAR…}`` in FROM, USER, ENV, ARG, COPY and a few
other instructions with its own small lexer (not a real shell).  This module
follows that lexer so that a USER line resolves to exactly what the builder
would use.  Unlike BuildKit it also records *which* variables it could not
resolve, because an unknown value must never be mistaken for a safe one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from secpolicy.dockerfile import pattern
from secpolicy.dockerfile.gospace import SPACES as _GO_SPACES
from secpolicy.dockerfile.gospace import go_isspace

_SPECIAL_PARAMS = frozenset("@*#?-$!0")
# Limits of this analysis, not of BuildKit: past them a file is reported as
# not analysable (SP001) instead of exhausting the stack or the memory.
MAX_NESTING = 64
MAX_VALUE = 1024 * 1024


class LexError(ValueError):
    """A word BuildKit itself would refuse (bad substitution, open quote…)."""


class TooComplex(LexError):
    """Valid for BuildKit, but past what secpolicy analyses (nesting depth, value size)."""


@dataclass
class Expansion:
    """Result of expanding one word.

    ``unknown`` holds variables the Dockerfile never defines (they may come
    from the base image's ENV); ``unset`` holds ARGs declared without a value
    and not supplied with ``--build-arg``.
    """

    value: str
    words: list[str]
    unknown: set[str] = field(default_factory=set)
    unset: set[str] = field(default_factory=set)
    error: LexError | None = None  # BuildKit would fail the build on this word

    @property
    def resolved(self) -> bool:
        return not self.unknown


# A variable scope maps names to values; ``None`` is a declared ARG with no
# value.  A name that is absent is unknown.
Scope = Mapping[str, str | None]


_GO_SPACE_RUN = re.compile("[" + "".join(sorted(_GO_SPACES)) + "]+")


class _Words:
    """BuildKit's ``wordsStruct``: splits the expanded text on white space outside quotes."""

    def __init__(self) -> None:
        self.word: list[str] = []
        self.words: list[str] = []
        self.in_word = False

    def _break(self) -> None:
        if self.in_word and self.word:
            self.words.append("".join(self.word))
            self.word = []
            self.in_word = False

    def add_char(self, ch: str) -> None:
        if go_isspace(ch):
            self._break()
        else:
            self.add_raw_char(ch)

    def add_raw_char(self, ch: str) -> None:
        self.word.append(ch)
        self.in_word = True

    def add_string(self, text: str) -> None:
        for i, part in enumerate(_GO_SPACE_RUN.split(text)):
            if i:
                self._break()
            if part:
                self.add_raw_string(part)

    def add_raw_string(self, text: str) -> None:
        self.word.append(text)
        self.in_word = True

    def done(self) -> list[str]:
        if self.word:
            self.words.append("".join(self.word))
            self.word = []
            self.in_word = False
        return self.words


class Lexer:
    """One expansion run over a single source string."""

    def __init__(
        self,
        escape: str = "\\",
        *,
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset: bool = False,
    ) -> None:
        self.escape = escape
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.skip_unset = skip_unset

    def expand(self, source: str, scope: Scope | None = None) -> Expansion:
        run = _Run(self, source, scope if scope is not None else {})
        value, words = run.until(None)
        return Expansion(value, words, run.unknown, run.unset)


class _Run:
    def __init__(self, lexer: Lexer, src: str, scope: Scope) -> None:
        self.lx = lexer
        self.src = src
        self.pos = 0
        self.scope = scope
        self.unknown: set[str] = set()
        self.unset: set[str] = set()
        self.depth = 0

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch

    def until(self, stop: str | None, raw_escapes: bool | None = None) -> tuple[str, list[str]]:
        keep_escapes = self.lx.raw_escapes if raw_escapes is None else raw_escapes
        out: list[str] = []
        size = 0
        words = _Words()
        while self.pos < len(self.src):
            ch = self.peek()
            if stop is not None and ch == stop:
                self.pos += 1
                return "".join(out), words.done()
            if ch == "'":
                tmp = self.single_quote()
                out.append(tmp)
                words.add_raw_string(tmp)
            elif ch == '"':
                tmp = self.double_quote()
                out.append(tmp)
                words.add_raw_string(tmp)
            elif ch == "$":
                tmp = self.dollar()
                out.append(tmp)
                words.add_string(tmp)
                size += len(tmp)
                if size > MAX_VALUE:
                    raise TooComplex(f"a value expands to more than {MAX_VALUE} characters")
            else:
                self.pos += 1
                if ch == self.lx.escape:
                    if keep_escapes:
                        words.add_raw_char(ch)
                        out.append(ch)
                    ch = self.next()
                    if not ch:
                        break
                    words.add_raw_char(ch)
                else:
                    words.add_char(ch)
                out.append(ch)
        if stop is not None:
            raise LexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out), words.done()

    def single_quote(self) -> str:
        self.pos += 1
        start = self.pos
        end = self.src.find("'", start)
        if end < 0:
            raise LexError("unexpected end of statement while looking for matching single-quote")
        self.pos = end + 1
        body = self.src[start:end]
        return f"'{body}'" if self.lx.raw_quotes else body

    def double_quote(self) -> str:
        self.pos += 1
        out: list[str] = ['"'] if self.lx.raw_quotes else []
        esc = self.lx.escape
        while True:
            ch = self.peek()
            if not ch:
                raise LexError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.pos += 1
                if self.lx.raw_quotes:
                    out.append('"')
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == esc:
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", esc):
                    if self.lx.raw_escapes:
                        out.append(ch)
                    ch = self.next()
            out.append(ch)

    def lookup(self, name: str) -> str | None:
        if name in self.scope:
            value = self.scope[name]
            if value is None:
                self.unset.add(name)
            return value
        if name not in _SPECIAL_PARAMS and not name.isdigit():
            self.unknown.add(name)
        return None

    def dollar(self) -> str:
        self.pos += 1
        if self.peek() != "{":
            return self.simple_dollar()
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise TooComplex(f"variable substitutions nested deeper than {MAX_NESTING} levels")
        try:
            return self.braced_dollar()
        finally:
            self.depth -= 1

    def simple_dollar(self) -> str:
        name = self.name()
        if not name:
            return "$"
        value = self.lookup(name)
        if value is None:
            return "$" + name if self.lx.skip_unset else ""
        return value

    def braced_dollar(self) -> str:
        self.pos += 1
        ch = self.peek()
        if not ch:
            raise LexError("syntax error: missing '}'")
        if ch in "{}:":
            raise LexError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            value = self.lookup(name)
            if value is None:
                return "${" + name + "}" if self.lx.skip_unset else ""
            return value
        if ch in ":-+?#%":
            colon = ch == ":"
            modifier = self.next() if colon else ch
            trims = modifier in "#%"
            if colon and trims:
                raise LexError(f"unsupported modifier (:{modifier}) in substitution")
            word = self.modifier_word(raw_escapes=trims)
            value = self.lookup(name)
            present = value is not None and (value != "" or not colon)
            if modifier == "-":
                return (value or "") if present else word
            if modifier == "+":
                return word if present else ""
            if modifier == "?":
                if not present and name not in self.unknown:
                    raise LexError(f"{name}: {word or 'is not allowed to be unset'}")
                return value or ""
            if trims:
                # BuildKit looks at the processed word: ${X##p} and ${X#$Y} with Y="#p" are both greedy
                greedy = word.startswith(modifier)
                if greedy:
                    word = word[1:]
                try:
                    if modifier == "#":
                        return pattern.trim_prefix(word, value or "", greedy)
                    return pattern.trim_suffix(word, value or "", greedy)
                except pattern.PatternError as exc:
                    raise LexError(f"invalid pattern ({word}) in substitution: {exc}") from None
            raise LexError(f"unsupported modifier ({':' if colon else ''}{modifier}) in substitution")
        if ch == "/":
            replace_all = self.peek() == "/"
            if replace_all:
                self.pos += 1
            pat = self.word_until("/", raw_escapes=True, missing="syntax error: missing '/' in ${}")
            repl = self.modifier_word(raw_escapes=True)
            value = self.lookup(name) or ""
            try:
                if replace_all:
                    return pattern.replace(pat, value, repl, True, template=True)
                return pattern.replace(pat, value, repl, False)
            except pattern.PatternError as exc:
                raise LexError(f"invalid pattern ({pat}) in substitution: {exc}") from None
        if not ch:
            raise LexError("syntax error: missing '}'")
        raise LexError(f"unsupported modifier ({ch}) in substitution")

    def modifier_word(self, raw_escapes: bool = False) -> str:
        return self.word_until("}", raw_escapes=raw_escapes, missing="syntax error: missing '}'")

    def word_until(self, stop: str, *, raw_escapes: bool, missing: str) -> str:
        """The word up to ``stop``; running out of text is BuildKit's ``missing`` error."""
        try:
            word, _ = self.until(stop, raw_escapes=raw_escapes)
        except LexError as exc:
            if isinstance(exc, TooComplex) or self.pos < len(self.src):
                raise
            raise LexError(missing) from None
        return word

    def name(self) -> str:
        start = self.pos
        ch = self.peek()
        if ch and ch.isdigit():
            while self.peek() and self.peek().isdigit():
                self.pos += 1
            return self.src[start : self.pos]
        if ch in _SPECIAL_PARAMS and ch:
            self.pos += 1
            return ch
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.pos += 1
        return self.src[start : self.pos]
