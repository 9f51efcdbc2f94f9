"""Go's notion of white space (``unicode.IsSpace``).

BuildKit splits and trims with Go's predicate, which differs from
``str.isspace`` (Python also counts U+001C..U+001F as space).
"""

from __future__ import annotations

SPACES = _SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_isspace(ch: str) -> bool:
    return ch in _SPACE


_CHARS = "".join(sorted(_SPACE))


def lstrip(text: str) -> str:
    return text.lstrip(_CHARS)


def strip(text: str) -> str:
    return text.strip(_CHARS)
