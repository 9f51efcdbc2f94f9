"""Line-level Dockerfile parser that follows BuildKit's own parser.

This is the layer BuildKit calls ``parser.Parse``: parser directives, line
continuations (with comment and blank lines inside them), per-instruction
argument shapes (JSON vs shell form, ENV/LABEL pairs, flags), heredoc bodies
and ONBUILD nesting.  The result is checked against BuildKit's own test files
in ``tests/conformance``.  Instruction-level validation lives in
``instructions.py``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import cached_property

from secpolicy.dockerfile import jsonarray
from secpolicy.dockerfile.gospace import go_isspace, lstrip, strip
from secpolicy.dockerfile.lexer import Lexer, LexError

_RE_WHITESPACE = re.compile(r"[\t\v\f\r ]+")
# BuildKit: ^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$ in RE2, where \s is [\t\n\f\r ].
# The value is trimmed with str.strip instead of a lazy group, which backtracks
# quadratically on long runs of spaces in Python's engine.
_RE_DIRECTIVE = re.compile(r"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=(.*)", re.DOTALL)
_RE2_SPACE = "\t\n\f\r "
_RE_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)\Z")
_VALID_DIRECTIVES = frozenset({"escape", "syntax", "check"})
HEREDOC_INSTRUCTIONS = frozenset({"add", "copy", "run"})


class DockerfileSyntaxError(ValueError):
    """The builder would reject the file; ``line`` is 1-based."""

    def __init__(self, message: str, line: int, end_line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.end_line = end_line or line


@dataclass
class Heredoc:
    name: str
    fd: int
    expand: bool
    chomp: bool
    content: str = ""
    line: int = 0  # first line of the body

    @cached_property
    def _newlines(self) -> list[int]:
        return [i for i, ch in enumerate(self.content) if ch == "\n"]

    def line_at(self, offset: int) -> int:
        """Physical line of a character of the body."""
        return self.line + bisect.bisect_left(self._newlines, offset)


@dataclass
class Node:
    """One instruction as BuildKit's parser sees it.

    ``args`` is BuildKit's argument chain flattened: ENV and LABEL carry
    ``key, value, separator`` triples, every other instruction plain words.
    """

    cmd: str
    keyword: str
    flags: list[str]
    args: list[str]
    json: bool = False
    original: str = ""
    line: int = 0
    end_line: int = 0
    column: int = 1
    child: Node | None = None
    heredocs: list[Heredoc] = field(default_factory=list)
    # offset in ``original`` and physical line of each joined continuation line
    segment_offsets: list[int] = field(default_factory=list)
    segment_lines: list[int] = field(default_factory=list)
    arg_offset: int = 0  # where the arguments start in ``original``

    def arg_line(self, offset: int) -> int:
        """Physical line of a character of the (single, shell-form) argument."""
        return self.line_at(self.arg_offset + offset)

    def line_at(self, offset: int) -> int:
        """Physical line of a character of ``original`` (the instruction, continuations joined)."""
        index = bisect.bisect_right(self.segment_offsets, offset) - 1
        return self.segment_lines[index] if index >= 0 else self.line

    def can_contain_heredoc(self) -> bool:
        node = self.child if self.cmd == "onbuild" and self.child else self
        return node.cmd in HEREDOC_INSTRUCTIONS and not node.json


@dataclass
class ParseResult:
    nodes: list[Node]
    escape: str
    # (line, text) of the comment lines between instructions: the only places a
    # suppression may be written (never a heredoc body or a line inside an instruction)
    comments: list[tuple[int, str]] = field(default_factory=list)


class _Directives:
    def __init__(self) -> None:
        self.escape = "\\"
        self.done = False
        self.seen: set[str] = set()

    def check(self, line: str, lineno: int) -> None:
        if self.done:
            return
        match = _RE_DIRECTIVE.fullmatch(line)
        value = match.group(2).strip(_RE2_SPACE) if match else ""
        if not match or not value:
            self.done = True
            return
        key = match.group(1).lower()
        if key not in _VALID_DIRECTIVES:
            self.done = True
            return
        if key in self.seen:
            raise DockerfileSyntaxError(f"only one {key} parser directive can be used", lineno)
        self.seen.add(key)
        if key == "escape":
            if value not in ("`", "\\"):
                raise DockerfileSyntaxError(f"invalid escape token '{value}' does not match ` or \\", lineno)
            self.escape = value

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """BuildKit's ``([^E])E[ \t]*$|^E[ \t]*$`` (E the escape token), without a regex.

        Returns the line without its continuation and whether the instruction ends here.
        """
        body = line.rstrip(" \t")
        if not body.endswith(self.escape):
            return line, True
        body = body[:-1]
        if body == "":
            return "", False
        if body.endswith(self.escape):
            return line, True
        return body, False


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(raw: str) -> bool:
    return lstrip(_trim_newline(raw)).startswith("#")


def _split_lines(text: str) -> list[str]:
    """Lines with their endings kept; like BuildKit, only \\n ends a line."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def parse(text: str) -> ParseResult:
    """Parse Dockerfile text; raise DockerfileSyntaxError where BuildKit would fail."""
    text = text.removeprefix("\ufeff")
    lines = _split_lines(text)
    d = _Directives()
    nodes: list[Node] = []
    comments: list[tuple[int, str]] = []
    i = 0
    n = len(lines)

    def process(raw: str, lineno: int, strip_left: bool) -> str:
        token = _trim_newline(raw)
        if strip_left:
            token = lstrip(token)
        d.check(token, lineno)
        return "" if token.startswith("#") else token

    while i < n:
        raw = lines[i]
        i += 1
        lineno = i
        line, end = d.trim_continuation(process(raw, lineno, True))
        if end and line == "":
            if _is_comment(raw):
                comments.append((lineno, lstrip(_trim_newline(raw))))
            continue
        start = lineno
        segments = [(0, lineno)]
        parts = [line]
        length = len(line)
        while not end and i < n:
            raw = lines[i]
            i += 1
            token = process(raw, i, False)
            if _is_comment(raw):
                continue
            if lstrip(token) == "":
                continue  # an empty continuation line (BuildKit only warns)
            part, end = d.trim_continuation(token)
            segments.append((length, i))
            parts.append(part)
            length += len(part)
        line = "".join(parts)
        try:
            node = _node_from_line(line, d)
        except DockerfileSyntaxError as exc:
            raise DockerfileSyntaxError(exc.message, start, i) from None
        node.line = start
        node.segment_offsets = [offset for offset, _ in segments]
        node.segment_lines = [number for _, number in segments]
        node.column = len(lines[start - 1]) - len(lstrip(lines[start - 1])) + 1
        if node.can_contain_heredoc():
            for doc in _heredocs_from_line(line, start):
                doc.line = i + 1
                terminated = False
                body: list[str] = []
                while i < n:
                    raw = lines[i]
                    i += 1
                    candidate = _trim_newline(raw)
                    if doc.chomp:
                        candidate = candidate.lstrip("\t")
                    if candidate == doc.name:
                        terminated = True
                        break
                    body.append(raw)
                doc.content = "".join(body)
                if not terminated:
                    raise DockerfileSyntaxError(
                        f"unterminated heredoc {doc.name!r} (no line reads {doc.name!r})", start, i
                    )
                target = node.child if node.cmd == "onbuild" and node.child else node
                target.heredocs.append(doc)
        node.end_line = i
        if node.child:
            node.child.line, node.child.end_line = node.line, node.end_line
        nodes.append(node)
    if not nodes:
        raise DockerfileSyntaxError("file with no instructions", 1)
    return ParseResult(nodes, d.escape, comments)


def _heredoc_from_word(word: str) -> Heredoc | None:
    match = _RE_HEREDOC.match(word)
    if not match or not match.group(3):
        return None
    rest = match.group(3)
    cooked = Lexer("\\", skip_unset=True).expand(rest).words
    if len(cooked) != 1:
        return None
    raw = Lexer("\\", raw_quotes=True, skip_unset=True).expand(rest).words
    if len(raw) != 1:
        raise LexError(f"inconsistent heredoc word: {rest}")

    def quotes(w: str) -> int:
        return w.count("'") + w.count('"')

    return Heredoc(
        name=cooked[0],
        fd=int(match.group(1) or 0),
        expand=quotes(cooked[0]) == quotes(raw[0]),
        chomp=match.group(2) == "-",
    )


def _heredocs_from_line(line: str, lineno: int) -> list[Heredoc]:
    if "<<" not in line:
        return []
    lexer = Lexer("\\", raw_quotes=True, raw_escapes=True, skip_unset=True)
    try:
        words = lexer.expand(line).words
    except LexError:
        return []
    docs: list[Heredoc] = []
    for word in words:
        try:
            doc = _heredoc_from_word(word)
        except LexError as exc:
            raise DockerfileSyntaxError(str(exc), lineno) from None
        if doc:
            docs.append(doc)
    return docs


# --- one instruction -------------------------------------------------------


def _node_from_line(line: str, d: _Directives) -> Node:
    keyword, flags, rest = _split_command(line)
    cmd = keyword.lower()
    handler = _DISPATCH.get(cmd)
    child = None
    if cmd == "onbuild":
        args, is_json = [], False
        if rest and _RE_WHITESPACE.split(rest, maxsplit=1)[0].lower() == "onbuild":
            # instructions.parseOnBuild; checked here so that nesting never recurses
            raise DockerfileSyntaxError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", 0)
        child = _node_from_line(rest, d) if rest else None
    elif handler is None:
        args, is_json = [""], False  # BuildKit keeps unknown instructions; load() rejects them
    else:
        args, is_json = handler(rest, d)
    body = strip(line)
    arg_offset = line.find(body) + len(body) - len(rest)
    return Node(cmd, keyword, flags, args, is_json, line, child=child, arg_offset=arg_offset)


def _split_command(line: str) -> tuple[str, list[str], str]:
    parts = _RE_WHITESPACE.split(strip(line), maxsplit=1)
    keyword = parts[0]
    flags: list[str] = []
    rest = ""
    if len(parts) == 2:
        rest, flags = _extract_flags(parts[1])
    return keyword, flags, strip(rest)


def _extract_flags(line: str) -> tuple[str, list[str]]:
    words: list[str] = []
    word: list[str] = []
    in_word = in_quote = False
    quote = ""
    blank_ok = False
    pos = 0
    n = len(line)
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if not in_word and not in_quote:
            if pos == n:
                break
            if go_isspace(ch):
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            in_word = True
        if pos == n:
            if "".join(word) != "--" and (blank_ok or word):
                words.append("".join(word))
            break
        if in_quote:
            if ch == quote or (ch == "\\" and pos + 1 == n):
                in_quote, in_word = False, True
            else:
                if ch == "\\":
                    pos += 1
                    ch = line[pos]
                word.append(ch)
            pos += 1
            continue
        if go_isspace(ch):
            in_word = False
            if "".join(word) == "--":
                return line[pos:], words
            if blank_ok or word:
                words.append("".join(word))
            word, blank_ok = [], False
            pos += 1
            continue
        if ch in ("'", '"'):
            quote, blank_ok = ch, True
            in_word, in_quote = False, True
            pos += 1
            continue
        if ch == "\\":
            if pos + 1 == n:
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return "", words


def _parse_words(rest: str, d: _Directives) -> list[str]:
    """Split on white space, keeping quotes (BuildKit's ``parseWords``)."""
    words: list[str] = []
    word: list[str] = []
    phase = "space"
    quote = ""
    blank_ok = False
    pos = 0
    n = len(rest)
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == "space":
            if pos == n:
                break
            if go_isspace(ch):
                pos += 1
                continue
            phase = "word"
        if pos == n:
            if blank_ok or word:
                words.append("".join(word))
            break
        if phase == "word":
            if go_isspace(ch):
                phase = "space"
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote, blank_ok, phase = ch, True, "quote"
            if ch == d.escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # phase == "quote"
        if ch == quote:
            phase = "word"
        if ch == d.escape and quote != "'":
            if pos + 1 == n:
                phase = "word"
                pos += 1
                continue
            pos += 1
            word.append(ch)
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


def _parse_name_val(rest: str, d: _Directives, key: str) -> tuple[list[str], bool]:
    words = _parse_words(rest, d)
    if not words:
        return [], False
    if "=" not in words[0]:
        parts = _RE_WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise DockerfileSyntaxError(f"{key} must have two arguments", 0)
        return [parts[0], parts[1], ""], False
    args: list[str] = []
    for word in words:
        if "=" not in word:
            raise DockerfileSyntaxError(f"can't find = in {word!r}: must be of the form name=value", 0)
        name, value = word.split("=", 1)
        args += [name, value, "="]
    return args, False


def _parse_env(rest: str, d: _Directives) -> tuple[list[str], bool]:
    return _parse_name_val(rest, d, "ENV")


def _parse_label(rest: str, d: _Directives) -> tuple[list[str], bool]:
    return _parse_name_val(rest, d, "LABEL")


def _parse_name_or_name_val(rest: str, d: _Directives) -> tuple[list[str], bool]:
    return _parse_words(rest, d), False


def _parse_whitespace_delimited(rest: str, d: _Directives) -> tuple[list[str], bool]:
    if not rest:
        return [], False
    return _RE_WHITESPACE.split(rest), False


def _parse_string(rest: str, d: _Directives) -> tuple[list[str], bool]:
    return ([rest] if rest else []), False


def _parse_json(rest: str) -> list[str] | None:
    return jsonarray.parse(lstrip(rest))


def _maybe_json(rest: str, d: _Directives) -> tuple[list[str], bool]:
    if not rest:
        return [], False
    try:
        parsed = _parse_json(rest)
    except jsonarray.NotStringArray:
        raise DockerfileSyntaxError(
            "when using JSON array syntax, arrays must be comprised of strings only", 0
        ) from None
    if parsed is not None:
        return parsed, True
    return [rest], False


def _maybe_json_to_list(rest: str, d: _Directives) -> tuple[list[str], bool]:
    try:
        parsed = _parse_json(rest)
    except jsonarray.NotStringArray:
        raise DockerfileSyntaxError(
            "when using JSON array syntax, arrays must be comprised of strings only", 0
        ) from None
    if parsed is not None:
        return parsed, True
    return _parse_whitespace_delimited(rest, d)


def _parse_health(rest: str, d: _Directives) -> tuple[list[str], bool]:
    sep = 0
    while sep < len(rest) and not go_isspace(rest[sep]):
        sep += 1
    nxt = sep
    while nxt < len(rest) and go_isspace(rest[nxt]):
        nxt += 1
    if sep == 0:
        return [], False
    args, is_json = _maybe_json(rest[nxt:], d)
    return [rest[:sep], *args], is_json


_DISPATCH = {
    "add": _maybe_json_to_list,
    "arg": _parse_name_or_name_val,
    "cmd": _maybe_json,
    "copy": _maybe_json_to_list,
    "entrypoint": _maybe_json,
    "env": _parse_env,
    "expose": _parse_whitespace_delimited,
    "from": _parse_whitespace_delimited,
    "healthcheck": _parse_health,
    "label": _parse_label,
    "maintainer": _parse_string,
    "run": _maybe_json,
    "shell": _maybe_json,
    "stopsignal": _parse_string,
    "user": _parse_string,
    "volume": _maybe_json_to_list,
    "workdir": _parse_string,
}
