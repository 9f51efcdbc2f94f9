"""The values manifests load into: dicts and lists that remember where each key and item is written."""

from __future__ import annotations

from typing import Any

Span = tuple[int, int, int, int]  # line, column, end line, end column (1-based; end column exclusive)


class Map(dict[str, Any]):
    """A YAML mapping; ``at[key]`` is where the key is written, ``span`` where the mapping is."""

    __slots__ = ("at", "span")

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span
        self.at: dict[str, Span] = {}


class Seq(list[Any]):
    """A YAML sequence; ``at[i]`` is where item ``i`` starts."""

    __slots__ = ("at", "span")

    def __init__(self, span: Span) -> None:
        super().__init__()
        self.span = span
        self.at: list[Span] = []
