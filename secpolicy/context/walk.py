"""The build context walk: exactly the files BuildKit's client sends (tonistiigi/fsutil ``filter.go``).

The walk decides each entry with ``MatchesUsingParentResults`` (one bit per
pattern inherited from the directory), as fsutil does.  An entry it emits
that the documented semantics (``MatchesOrParentMatches``) call excluded is
sent with empty content (fsutil's ``Open`` re-checks and refuses it): it is
marked ``content_withheld``.

* Symbolic links are never followed: a link is sent as the link it is.
* Sockets, FIFOs and devices are not sent.
* An unreadable directory is reported and the walk goes on; inside an
  excluded directory it is ignored, as fsutil ignores it.
* An excluded directory is not entered when no exception pattern can match
  anything below it (a 100k-file ``node_modules`` excluded by
  ``node_modules`` is one ``stat``).  When every exception is a plain
  prefix, fsutil's own rule decides (and can drop what an exception names
  deeper); with glob exceptions fsutil walks everything, and skipping what
  no exception can reach changes nothing that is sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from secpolicy.context.ignore import EXACT, PREFIX, SUFFIX, MatchInfo, Pattern, PatternMatcher


class Entry(NamedTuple):  # a tuple: a 200k-file context makes 200k of them
    path: str  # relative, POSIX
    kind: str  # file | symlink
    size: int
    decided: Pattern | None  # the pattern that decided (an exception that re-included it), None: no pattern
    content_withheld: bool = False


@dataclass(frozen=True)
class Problem:
    path: str
    message: str


@dataclass(frozen=True)
class Divergent:
    """A file the walk does not send although the documented semantics include it (the pattern that says so)."""

    path: str
    documented: Pattern | None


def _can_match_below(pattern: Pattern, directory: str) -> bool:
    """Could ``pattern`` match some path strictly below ``directory``?  (False only when it surely cannot.)"""
    text = pattern.text
    below = directory + "/"
    if pattern.kind == EXACT:
        return text.startswith(below)
    if pattern.kind == PREFIX:
        stem = text[:-2]
        return below.startswith(stem) or stem.startswith(below)
    if pattern.kind == SUFFIX or "**" in text or "[" in text or "\\" in text:
        return True  # a suffix test, ** or a class that might hold "/": assume it can
    segments = text.split("/")
    dirs = directory.split("/")
    if len(segments) <= len(dirs):
        return False  # "*" and "?" never cross "/": the pattern cannot reach that deep
    return all(_segment(segment).match(name) for segment, name in zip(segments, dirs, strict=False))


@lru_cache(maxsize=4096)
def _segment(text: str) -> Pattern:
    return Pattern(text, False)


_PATTERN_CHARS = "*[]?^\\"  # fsutil filter.go patternChars, with "\\" on Unix


def _without_trailing_glob(text: str) -> str:
    """fsutil ``patternWithoutTrailingGlob``: one trailing /** is dropped, then one trailing /*."""
    text = text.removesuffix("/**")
    return text.removesuffix("/*")


def _prefix_only(matcher: PatternMatcher) -> list[str] | None:
    """The exceptions as fsutil's prefixes when every one is "prefix only", else None."""
    stems = []
    for p in matcher.patterns:
        if p.exclusion:
            stem = _without_trailing_glob(p.text)
            if any(c in stem for c in _PATTERN_CHARS):
                return None
            stems.append(stem)
    return stems


def _prunable(matcher: PatternMatcher, directory: str, stems: list[str] | None) -> bool:
    if stems is not None:
        # fsutil's own rule (filter.go): it skips the directory unless an exception's stem lies inside it,
        # and what it skips is not sent, even if an exception would have re-included something there
        below = directory + "/"
        return not any((stem + "/").startswith(below) for stem in stems)
    # exceptions with globs: fsutil walks everything; skipping what no exception can reach is only faster
    return not any(p.exclusion and _can_match_below(p, directory) for p in matcher.patterns)


def walk(root: Path, matcher: PatternMatcher | None, *, sizes: bool = True) -> Iterator[Entry | Problem | Divergent]:
    """Entries in lexical order (files and links; directories only matter for what is under them).

    Types come from the directory entries themselves (no ``stat`` per file);
    ``sizes=False`` skips the one ``lstat`` per sent file that sizes cost.
    """
    if matcher is None or not matcher.patterns:
        yield from _walk_plain(root, sizes)
        return
    stems = _prefix_only(matcher)
    stack: list[tuple[Iterator[os.DirEntry[str]], str, MatchInfo, bool]] = []

    def enter(path: Path, rel: str, info: MatchInfo, excluded: bool) -> Problem | None:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            if excluded:
                return None  # fsutil ignores errors inside a directory it does not send
            return Problem(rel or ".", f"cannot read directory: {exc.strerror or exc}")
        stack.append((iter(entries), rel, info, excluded))
        return None

    problem = enter(root, "", MatchInfo(), False)
    if problem is not None:
        yield problem
    while stack:
        entries, parent, info, _ = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        rel = f"{parent}/{entry.name}" if parent else entry.name
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_link = not is_dir and entry.is_symlink()
            is_file = not is_dir and not is_link and entry.is_file(follow_symlinks=False)
        except OSError as exc:
            yield Problem(rel, f"cannot stat: {exc.strerror or exc}")  # e.g. removed during the walk
            continue
        if matcher is not None and matcher.patterns:
            excluded, child_info, decided = matcher.matches_using_parent_results(rel, info)
        else:
            excluded, child_info, decided = False, MatchInfo(), None
        if is_dir:
            if excluded and matcher is not None and _prunable(matcher, rel, stems):
                continue
            problem = enter(Path(entry.path), rel, child_info, excluded)
            if problem is not None:
                yield problem
            continue
        if not (is_file or is_link):
            continue  # sockets, FIFOs, devices are not sent
        if excluded:
            if matcher is not None and matcher.exclusions:
                documented, pattern = matcher.matches_or_parent_matches(rel)
                if not documented:
                    yield Divergent(rel, pattern)
            continue
        withheld = False
        if matcher is not None and matcher.exclusions:
            withheld = matcher.matches_or_parent_matches(rel)[0]
        size = 0
        if sizes:
            try:
                size = entry.stat(follow_symlinks=False).st_size
            except OSError as exc:
                yield Problem(rel, f"cannot stat: {exc.strerror or exc}")  # removed during the walk
                continue
        yield Entry(rel, "symlink" if is_link else "file", size, decided, withheld)


def _walk_plain(root: Path, sizes: bool) -> Iterator[Entry | Problem]:
    """The walk with no ignore patterns: every file and link is sent (the common case, kept tight)."""
    pending: list[tuple[str, str]] = [(str(root), "")]
    while pending:
        path, rel = pending.pop()
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name, reverse=True)
        except OSError as exc:
            yield Problem(rel or ".", f"cannot read directory: {exc.strerror or exc}")
            continue
        prefix = rel + "/" if rel else ""
        files: list[Entry] = []
        for entry in entries:
            name = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, name))
                    continue
                link = entry.is_symlink()
                if not link and not entry.is_file(follow_symlinks=False):
                    continue  # sockets, FIFOs, devices are not sent
                size = entry.stat(follow_symlinks=False).st_size if sizes else 0
            except OSError as exc:
                yield Problem(name, f"cannot stat: {exc.strerror or exc}")
                continue
            files.append(Entry(name, "symlink" if link else "file", size, None))
        yield from reversed(files)
