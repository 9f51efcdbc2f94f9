"""Manifests (YAML streams, JSON) to plain values that know where they were written.

PyYAML's constructors lose every position and expand aliases without limit
(a "billion laughs" document is 9^9 nodes from a few hundred bytes), and its
Python composer recurses once per nesting level.  So the document is built
here from libyaml's event stream with an explicit stack:

* mappings are ``Map`` (a dict that also records where each key is),
  sequences ``Seq`` (a list that records where each item is);
* an alias is expanded by replaying the events of its anchor, and every
  replayed node counts against a budget (``MAX_ALIAS_NODES``, or ten times
  the document's own nodes if more): the expanded document is at most that
  much larger than the file, so everything after this is linear;
* nesting deeper than ``MAX_DEPTH`` and recursive aliases are errors;
* a duplicate key keeps the last value, as the API server's JSON decoding
  does, and is recorded so that lint can say so;
* ``<<`` merge keys are applied where they are written, as go-yaml does
  (a later key overrides a merged one, a merge overrides an earlier key);
* plain ``y``/``n`` are booleans and ``0o17`` an integer, as in go-yaml.

A syntax error ends a document, not the file: parsing resumes at the next
``---`` line, so the documents after a broken one are still linted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from secpolicy.kube.nodes import Map, Seq, Span

MAX_DEPTH = 256
MAX_ALIAS_NODES = 100_000

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it
_constructor = yaml.constructor.SafeConstructor()
_DOC_START = re.compile(r"^---(?:[ \t]|\r?$)", re.MULTILINE)
# go-yaml (kubectl's YAML library) resolves these plain scalars as PyYAML's YAML 1.1 resolver does not:
# y/n booleans, and integers strconv.ParseInt(s, 0, 64) accepts (0o17, 0O17)
_GO_TRUE = frozenset({"y", "Y"})
_GO_FALSE = frozenset({"n", "N"})
_GO_OCTAL = re.compile(r"[-+]?0[oO][0-7]+(?:_[0-7]+)*")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")  # go-yaml v2 resolve.go


@dataclass
class Document:
    value: Any
    line: int  # where the document starts
    duplicates: list[tuple[Span, str]] = field(default_factory=list)  # (where, key) of each repeated key


@dataclass(frozen=True)
class LoadError:
    line: int
    column: int
    message: str


@dataclass
class Stream:
    documents: list[Document]
    errors: list[LoadError]
    block_lines: list[tuple[int, int]]  # (first, last) line of every multi-line scalar: text there is not a comment


class _Fail(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def load(text: str) -> Stream:
    """Every document of ``text``; a broken part becomes an error and the documents after it are still read."""
    stream = Stream([], [], [])
    values = _json_values(text)
    if values is not None:
        # a JSON stream of several values (kubectl reads {...}{...} and one object per line), or one
        # with escapes libyaml refuses: each value is read as a document of its own
        offset, counted = 0, 0
        for start, end in values:
            offset += text.count("\n", counted, start)
            counted = start
            try:
                _parse(_yaml_escapes(text[start:end]), offset, stream)
            except _Fail as fail:
                stream.errors.append(LoadError(fail.line, fail.column, fail.message))
        return stream
    try:
        _parse(text, 0, stream)
        return stream
    except _Fail as fail:
        stream.errors.append(LoadError(fail.line, fail.column, fail.message))
        error_line = fail.line
    # From the error's line on (an unclosed flow collection is reported at the next marker), every
    # document is read on its own.  A "---" at column 0 ends any document, even inside a scalar,
    # so cutting the text at these markers is safe; each character is parsed at most twice.
    cut = max(_line_start(text, error_line - 1), 1)
    markers = [m.start() for m in _DOC_START.finditer(text, cut)]
    offset, counted = 0, 0
    for i, start in enumerate(markers):
        end = markers[i + 1] if i + 1 < len(markers) else len(text)
        offset += text.count("\n", counted, start)
        counted = start
        try:
            _parse(text[start:end], offset, stream)
        except _Fail as fail:
            stream.errors.append(LoadError(fail.line, fail.column, fail.message))
    return stream


_SURROGATES = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE)


def _yaml_escapes(text: str) -> str:
    """JSON writes a character beyond U+FFFF as a surrogate pair (\\ud83d\\ude00); YAML wants \\U0001f600."""
    if "\\u" not in text:
        return text

    def joined(match: re.Match[str]) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08x}"

    return _SURROGATES.sub(joined, text)


def _json_values(text: str) -> list[tuple[int, int]] | None:
    """The (start, end) of each top-level value when ``text`` is a JSON stream that needs reading value by
    value; None when it is not JSON, or is one value libyaml reads as it is."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return None
    decoder = json.JSONDecoder()
    spans: list[tuple[int, int]] = []
    index = len(text) - len(stripped)
    try:
        while index < len(text):
            _, end = decoder.raw_decode(text, index)
            spans.append((index, end))
            index = end
            while index < len(text) and text[index] in " \t\r\n":
                index += 1
    except (ValueError, RecursionError):
        return None  # not JSON after all (YAML flow style, or broken): the YAML reader reports it
    if len(spans) == 1 and not _SURROGATES.search(text):
        return None
    return spans


def _line_start(text: str, line: int) -> int:
    """Index just past the end of ``line`` (1-based): where line ``line + 1`` starts."""
    index = 0
    for _ in range(line):
        found = text.find("\n", index)
        if found < 0:
            return len(text)
        index = found + 1
    return index


def _events(text: str, offset: int) -> Iterator[Any]:
    loader = _Loader(text)
    try:
        while True:
            try:
                if not loader.check_event():
                    return
                event = loader.get_event()
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = (mark.line + 1 + offset) if mark is not None else offset + 1
                column = (mark.column + 1) if mark is not None else 1
                raise _Fail(line, column, f"invalid YAML: {exc.problem or exc.context}") from None
            except yaml.YAMLError as exc:
                raise _Fail(offset + 1, 1, f"invalid YAML: {exc}") from None
            yield event
    finally:
        loader.dispose()


def _span(event: Any, offset: int) -> Span:
    start, end = event.start_mark, event.end_mark
    return (start.line + 1 + offset, start.column + 1, end.line + 1 + offset, end.column + 1)


def _scalar(event: Any) -> Any:
    tag = event.tag
    value = event.value
    if tag is None or tag == "!":
        if not event.implicit[0]:
            return value  # quoted: always a string
        tag = _Loader.resolve(_Loader, yaml.ScalarNode, value, (True, False))
        if tag == "tag:yaml.org,2002:str":
            if value in _GO_TRUE or value in _GO_FALSE:
                return value in _GO_TRUE
            if _GO_OCTAL.fullmatch(value):
                return int(value.replace("_", ""), 0)
            if _GO_FLOAT.fullmatch(value):
                return float(value)  # 1e3: PyYAML's YAML 1.1 floats need a dot
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() in ("yes", "true", "on")
    if (tag == "tag:yaml.org,2002:int" or tag == "tag:yaml.org,2002:float") and ":" in value:
        return value  # YAML 1.1 base 60 (16:40): go-yaml reads it as the string it is
    if tag == "tag:yaml.org,2002:int":
        try:
            return _constructor.construct_yaml_int(yaml.ScalarNode(tag, value))
        except ValueError:
            return value
    if tag == "tag:yaml.org,2002:float":
        try:
            return _constructor.construct_yaml_float(yaml.ScalarNode(tag, value))
        except ValueError:
            return value
    return value  # strings, timestamps, binary and unknown tags stay text


class _Builder:
    """Builds one document from its events; aliases replay the anchor's events."""

    def __init__(self, events: list[Any], offset: int, stream: Stream) -> None:
        self.events = events
        self.offset = offset
        self.stream = stream
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (first, last) event index
        self.open_anchors: dict[int, str] = {}  # event index of an open collection -> its anchor
        self.replayed = 0
        # expansion may add MAX_ALIAS_NODES nodes, or ten times the document's own size if more:
        # files that reuse anchors a lot still load, and the result stays linear in the input
        self.budget = max(MAX_ALIAS_NODES, 10 * len(events))
        self.duplicates: list[tuple[Span, str]] = []

    def build(self) -> Any:
        # frames: [container, pending key or None, key span, merges]
        stack: list[list[Any]] = []
        result: Any = None
        done = False
        # event sources: [index, end index, index of the alias event replaying it, or -1]
        sources: list[list[int]] = [[0, len(self.events), -1]]
        open_starts: list[int] = []  # index of each open collection's start event (for anchors)
        while sources:
            src = sources[-1]
            if src[0] >= src[1]:
                sources.pop()
                continue
            index = src[0]
            src[0] += 1
            event = self.events[index]
            replaying = len(sources) > 1
            kind = type(event)
            if kind is yaml.AliasEvent:
                anchor = event.anchor
                if anchor not in self.anchors:
                    if anchor in self.open_anchors.values():
                        raise self._fail(event, f"recursive alias *{anchor}: it refers to the node that contains it")
                    raise self._fail(event, f"alias *{anchor} refers to an undefined anchor")
                first, last = self.anchors[anchor]
                sources.append([first, last + 1, index])
                continue
            if replaying:
                self.replayed += 1
                if self.replayed > self.budget:
                    raise self._fail(
                        self.events[sources[1][2]],  # the outermost alias being expanded
                        f"aliases expand to more than {self.budget:,} nodes (an alias bomb?): not expanded further",
                    )
            if kind is yaml.ScalarEvent:
                value: Any = _scalar(event)
                span = _span(event, self.offset)
                # a block scalar (| or >) ends at column 1 of the line after its last line
                last = span[2] - 1 if span[3] == 1 and span[2] > span[0] else span[2]
                if last > span[0] and not replaying:
                    self.stream.block_lines.append((span[0], last))
                if event.anchor is not None and not replaying:
                    self.anchors[event.anchor] = (index, index)
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) >= MAX_DEPTH:
                    raise self._fail(event, f"nesting deeper than {MAX_DEPTH} levels")
                span = _span(event, self.offset)
                container: Any = Map(span) if kind is yaml.MappingStartEvent else Seq(span)
                if event.anchor is not None and not replaying:
                    self.open_anchors[index] = event.anchor
                stack.append([container, None, None, set(), False])  # [value, key, key span, keys, merge?]
                open_starts.append(index)
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                frame = stack.pop()
                start = open_starts.pop()
                value = frame[0]
                anchor = self.open_anchors.pop(start, None)
                if anchor is not None:
                    self.anchors[anchor] = (start, index)
                span = value.span
            else:
                continue  # stream/document start and end are handled by the caller
            if not stack:
                result = value
                done = True
                continue
            frame = stack[-1]
            parent = frame[0]
            if isinstance(parent, Seq):
                parent.append(value)
                parent.at.append(span)
            elif frame[1] is None and not frame[2]:
                # a key
                if isinstance(value, Map | Seq):
                    raise _Fail(span[0], span[1], "invalid YAML for a manifest: a mapping key must be a scalar")
                key = event.value if kind is yaml.ScalarEvent else str(value)
                frame[1] = key
                frame[2] = span
                # go-yaml merges only on a plain << (or one tagged !!merge); "<<" quoted is an ordinary key
                frame[4] = (
                    kind is yaml.ScalarEvent
                    and key == "<<"
                    and (event.implicit[0] or event.tag == "tag:yaml.org,2002:merge")
                )
            else:
                key, key_span = frame[1], frame[2]
                frame[1], frame[2] = None, None
                if frame[4] and isinstance(value, Map | Seq):
                    # go-yaml merges where the key is written: later keys override it, it overrides earlier ones
                    self._merge(parent, value, key_span)
                    continue
                if key in frame[3]:
                    self.duplicates.append((key_span, key))
                frame[3].add(key)
                parent[key] = value
                parent.at[key] = key_span
        if not done:
            return None
        return result

    def _merge(self, target: Map, merged: Any, span: Span) -> None:
        # of a list of mappings the earlier ones win (go-yaml merges them last to first)
        sources = list(reversed(merged)) if isinstance(merged, Seq) else [merged]
        for source in sources:
            if not isinstance(source, Map):
                raise _Fail(span[0], span[1], "a << merge key takes a mapping or a list of mappings")
            for key, value in source.items():
                target[key] = value
                target.at[key] = source.at[key]

    def _fail(self, event: Any, message: str) -> _Fail:
        span = _span(event, self.offset)
        return _Fail(span[0], span[1], message)


def _parse(text: str, offset: int, stream: Stream) -> None:
    events: list[Any] = []
    start_line = offset + 1
    for event in _events(text, offset):
        kind = type(event)
        if kind is yaml.DocumentStartEvent:
            events = []
            start_line = event.start_mark.line + 1 + offset
        elif kind is yaml.DocumentEndEvent:
            builder = _Builder(events, offset, stream)
            value = builder.build()
            stream.documents.append(Document(value, start_line, builder.duplicates))
            events = []
        elif kind is not yaml.StreamStartEvent and kind is not yaml.StreamEndEvent:
            events.append(event)
