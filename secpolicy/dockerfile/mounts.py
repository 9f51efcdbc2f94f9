"""``RUN --mount`` values, read as BuildKit reads them (``frontend/dockerfile/instructions/commands_runmount.go``).

The value is a CSV record of ``key=value`` fields (keys case-insensitive);
the type defaults to ``bind``; ``source``/``src``, ``target``/``dst``/
``destination`` and ``from`` name what is mounted where.  A bind mount with
no ``from`` mounts the build context (``convert_runmount.go``): BuildKit
transfers that path of the context for the step, and the step can read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

BIND, CACHE, TMPFS, SECRET, SSH = "bind", "cache", "tmpfs", "secret", "ssh"


@dataclass(frozen=True)
class Mount:
    type: str = BIND
    source: str | None = ""  # None: an ARG/ENV the linter cannot resolve
    target: str = ""
    from_: str | None = None

    @property
    def reads_context(self) -> bool:
        return self.type == BIND and not self.from_


def parse_mount(value: str, expand: Callable[[str], str | None] | None = None) -> Mount | None:
    """The mount, or None when the value is not a CSV record (BuildKit refuses it)."""
    import csv

    if _bare_quote(value):
        return None
    try:
        fields = next(csv.reader([value], strict=True), [])
    except csv.Error:
        return None
    kind, target, origin = BIND, "", None
    source: str | None = ""
    for item in fields:
        key, eq, raw = item.partition("=")
        if not eq:
            continue  # ro, rw, required: flags without a value
        key = key.lower()
        text: str | None = raw
        if key != "from" and expand is not None:
            text = expand(raw)  # BuildKit expands every value but "from" against the stage's ARG/ENV
        if key == "type":
            kind = (text or raw).lower()
        elif key == "from":
            origin = raw
        elif key in ("source", "src"):
            source = text
        elif key in ("target", "dst", "destination"):
            target = text or raw
    return Mount(kind, source, target, origin)


def _bare_quote(value: str) -> bool:
    """A quote inside a field that does not start with one: Go's csv refuses it (ErrBareQuote), Python's keeps it."""
    in_quotes = quoted = False
    start = True
    for c in value:
        if in_quotes:
            in_quotes = c != '"'
            continue
        if c == ",":
            start, quoted = True, False
            continue
        if c == '"':
            if not (start or quoted):
                return True
            in_quotes = quoted = True  # an opening quote, or the second of a doubled one
        start = False
    return False
