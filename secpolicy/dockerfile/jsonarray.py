"""The JSON form of CMD/RUN/... the way BuildKit's ``parseJSON`` reads it.

BuildKit calls Go's ``json.Unmarshal`` on the rest of the line: the whole
text must be one JSON value (trailing white space only), nesting deeper than
Go's limit of 10,000 is a syntax error, and a valid array holding anything
but strings is an error of its own ("arrays must be comprised of strings
only").  Python's decoder recurses per nesting level, so the text is first
checked here by an iterative scanner; only a flat array reaches ``json``.
"""

from __future__ import annotations

import json
import re

GO_MAX_DEPTH = 10_000
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]+|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERAL = re.compile(r"true|false|null")


class NotStringArray(ValueError):
    """Valid JSON array, but an element is not a string: BuildKit fails the build."""


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _after_key(text: str, pos: int) -> int | None:
    """Past ``"key" :`` of an object member, or None where there is none."""
    match = _STRING.match(text, _skip_ws(text, pos))
    if not match:
        return None
    pos = _skip_ws(text, match.end())
    return pos + 1 if pos < len(text) and text[pos] == ":" else None


def _scan(text: str) -> tuple[bool, bool]:
    """(is one valid JSON value, top level is an array of strings only)."""
    pos = 0
    stack: list[str] = []  # "[" or "{"
    strings_only = True
    expect_value = True
    n = len(text)
    while True:
        pos = _skip_ws(text, pos)
        if not stack and not expect_value:
            return pos == n, strings_only  # trailing text after the value is an error in Go
        if pos >= n:
            return False, False
        ch = text[pos]
        if expect_value:
            if ch in "[{":
                if len(stack) >= GO_MAX_DEPTH:
                    return False, False
                strings_only = strings_only and not stack
                stack.append(ch)
                pos = _skip_ws(text, pos + 1)
                if pos < n and text[pos] == ("]" if ch == "[" else "}"):
                    stack.pop()
                    pos += 1
                    expect_value = False
                elif ch == "{":
                    key_end = _after_key(text, pos)
                    if key_end is None:
                        return False, False
                    pos = key_end
                continue
            match = _STRING.match(text, pos) or _NUMBER.match(text, pos) or _LITERAL.match(text, pos)
            if not match:
                return False, False
            strings_only = strings_only and (len(stack) > 1 or ch == '"')
            pos = match.end()
            expect_value = False
        elif ch == ",":
            pos += 1
            if stack[-1] == "{":
                key_end = _after_key(text, pos)
                if key_end is None:
                    return False, False
                pos = key_end
            expect_value = True
        elif (ch == "]" and stack[-1] == "[") or (ch == "}" and stack[-1] == "{"):
            stack.pop()
            pos += 1
        else:
            return False, False


def parse(rest: str) -> list[str] | None:
    """The strings of a JSON array, or ``None`` where BuildKit falls back to shell form."""
    if not rest.startswith("["):
        return None
    valid, strings_only = _scan(rest)
    if not valid:
        return None
    if not strings_only:
        raise NotStringArray
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NotStringArray
    return value
