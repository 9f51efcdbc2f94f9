"""Split a POSIX shell script into simple commands.

Not a shell: enough of one to find which programs a RUN step starts.  Quotes
and escapes are removed, variables are kept as written, redirections are
dropped, and command substitutions (``$(…)``, backticks) are parsed as
scripts of their own.  Nothing is ever executed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPERATOR_CHARS = frozenset(";&|()\n")
_PLAIN_RUN = re.compile(r"[^\s\\'\"`$#<>;&|()]+")
_RESERVED_PREFIX = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time"})
_SKIP_COMMAND = frozenset({"for", "case", "fi", "done", "esac", "select"})
# Command substitutions nested deeper than this are not analysed: the command
# that holds them is marked ``truncated`` so that checks can say so.
MAX_DEPTH = 16


@dataclass
class SimpleCommand:
    words: list[str]
    offset: int  # where the command starts in the script it came from
    nested: list[SimpleCommand] = field(default_factory=list)
    truncated: bool = False  # holds substitutions nested too deep to analyse


class _Tokenizer:
    def __init__(self, script: str, depth: int = 0) -> None:
        self.depth = depth
        self.truncated = False
        self.s = script
        self.i = 0
        self.commands: list[SimpleCommand] = []
        self.words: list[str] = []
        self.word: list[str] | None = None
        self.start = 0
        self.skip_next_word = False
        self.nested: list[SimpleCommand] = []

    # -- words and commands ------------------------------------------------
    def _begin_word(self) -> list[str]:
        if self.word is None:
            self.word = []
            if not self.words:
                self.start = self.i
        return self.word

    def _end_word(self) -> None:
        if self.word is None:
            return
        text = "".join(self.word)
        self.word = None
        if self.skip_next_word:
            self.skip_next_word = False
            return
        self.words.append(text)

    def _end_command(self) -> None:
        self._end_word()
        words = self.words
        skip = 0
        while skip < len(words) and words[skip] in _RESERVED_PREFIX:
            skip += 1
        if skip < len(words) and words[skip] == "function":
            skip += 2  # "function NAME { ...": the body's commands follow on their own
            while skip < len(words) and words[skip] in _RESERVED_PREFIX:
                skip += 1
        words = words[skip:]
        if words and words[0] not in _SKIP_COMMAND:
            self.commands.append(SimpleCommand(words, self.start, self.nested, self.truncated))
        else:
            if self.truncated:
                self.commands.append(SimpleCommand([], self.start, [], True))
            self.commands.extend(self.nested)
        self.words, self.nested, self.truncated = [], [], False

    # -- scanning ------------------------------------------------------------
    def run(self) -> list[SimpleCommand]:
        s = self.s
        while self.i < len(s):
            ch = s[self.i]
            if ch in " \t\r":
                self._end_word()
                self.i += 1
            elif ch == "\\":
                if self.i + 1 < len(s) and s[self.i + 1] == "\n":
                    self.i += 2
                    continue
                self._begin_word().append(s[self.i + 1 : self.i + 2])
                self.i += 2
            elif ch == "'":
                end = s.find("'", self.i + 1)
                end = len(s) if end < 0 else end
                self._begin_word().append(s[self.i + 1 : end])
                self.i = end + 1
            elif ch == '"':
                self._double_quoted()
            elif ch == "`":
                end = self._find_backtick(self.i + 1)
                self._substitution(s[self.i + 1 : end], self.i + 1)
                self._begin_word().append(s[self.i : end + 1])
                self.i = end + 1
            elif ch == "$":
                self._dollar(self._begin_word())
            elif ch == "#" and self.word is None:
                end = s.find("\n", self.i)
                self.i = len(s) if end < 0 else end
            elif ch in "<>":
                self._redirect()
            elif ch in _OPERATOR_CHARS:
                self._end_command()
                self.i += 1
            else:
                match = _PLAIN_RUN.match(s, self.i)
                end = match.end() if match else self.i + 1
                self._begin_word().append(s[self.i : end])
                self.i = end
        self._end_command()
        return self.commands

    def _redirect(self) -> None:
        if self.word is not None and "".join(self.word).isdigit():
            self.word = None  # "2>" : the fd number is not an argument
        else:
            self._end_word()
        s = self.s
        self.i += 1
        while self.i < len(s) and s[self.i] in "<>&|-":
            self.i += 1
        if self.i < len(s) and s[self.i - 1] == "&" and s[self.i].isdigit():
            while self.i < len(s) and s[self.i].isdigit():
                self.i += 1  # 2>&1
            return
        self.skip_next_word = True

    def _double_quoted(self) -> None:
        s = self.s
        word = self._begin_word()
        self.i += 1
        while self.i < len(s) and s[self.i] != '"':
            ch = s[self.i]
            if ch == "\\" and self.i + 1 < len(s) and s[self.i + 1] in '$`"\\\n':
                if s[self.i + 1] != "\n":
                    word.append(s[self.i + 1])
                self.i += 2
            elif ch == "$":
                self._dollar(word)
            elif ch == "`":
                end = self._find_backtick(self.i + 1)
                self._substitution(s[self.i + 1 : end], self.i + 1)
                word.append(s[self.i : end + 1])
                self.i = end + 1
            else:
                word.append(ch)
                self.i += 1
        self.i += 1

    def _dollar(self, word: list[str]) -> None:
        s = self.s
        nxt = s[self.i + 1 : self.i + 2]
        if nxt == "(":
            end = _matching(s, self.i + 1, "(", ")")
            self._substitution(s[self.i + 2 : end], self.i + 2)
            word.append(s[self.i : end + 1])
            self.i = end + 1
        elif nxt == "{":
            end = _matching(s, self.i + 1, "{", "}")
            word.append(s[self.i : end + 1])
            self.i = end + 1
        else:
            word.append("$")
            self.i += 1

    def _find_backtick(self, start: int) -> int:
        i = start
        while i < len(self.s):
            if self.s[i] == "\\":
                i += 2
                continue
            if self.s[i] == "`":
                return i
            i += 1
        return len(self.s)

    def _substitution(self, script: str, offset: int) -> None:
        if self.depth >= MAX_DEPTH:
            self.truncated = True
            return
        for cmd in split_commands(script, self.depth + 1):
            cmd.offset += offset
            self.truncated = self.truncated or cmd.truncated
            self.nested.append(cmd)


def _matching(s: str, i: int, open_: str, close: str) -> int:
    depth = 0
    quote = ""
    while i < len(s):
        ch = s[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                i += 1
        elif ch in "'\"":
            quote = ch
        elif ch == "\\":
            i += 1
        elif ch == open_:
            depth += 1
        elif ch == close:
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return len(s)


def split_commands(script: str, depth: int = 0) -> list[SimpleCommand]:
    """Simple commands in order; substitutions come right after their host."""
    out: list[SimpleCommand] = []
    for cmd in _Tokenizer(script, depth).run():
        out.append(cmd)
        out.extend(cmd.nested)
    return out
