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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from secpolicy.context.ignore import EXACT, PREFIX, SUFFIX, MatchInfo, Pattern, PatternMatcher

FILE = "file"
SYMLINK = "symlink"
DIR = "dir"


class Entry(NamedTuple):  # a tuple: a 200k-file context makes 200k of them
    path: str  # relative, POSIX
    kind: str  # FILE | SYMLINK
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


@dataclass
class Walk:
    """What was sent, kept compact: a large context is mostly plain files that no pattern decided.

    ``paths`` holds every file and link sent, in sorted order; ``sizes`` runs
    parallel to it when sizes were measured; ``special`` holds, by index, the
    entries that are not a plain file with no deciding pattern.
    """

    paths: list[str] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    special: dict[int, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    divergent: list[Divergent] = field(default_factory=list)

    def add(self, entry: Entry, measured: bool) -> None:
        if entry.kind != FILE or entry.decided is not None or entry.content_withheld:
            self.special[len(self.paths)] = entry
        self.paths.append(entry.path)
        if measured:
            self.sizes.append(entry.size)

    def entries(self) -> list[Entry]:
        special, sizes = self.special, self.sizes
        return [
            special.get(i) or Entry(path, FILE, sizes[i] if sizes else 0, None) for i, path in enumerate(self.paths)
        ]


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


def walk(root: Path, matcher: PatternMatcher | None, *, sizes: bool = True) -> Walk:
    """What the builder receives from ``root``, entries in sorted path order.

    Types come from the directory entries themselves (no ``stat`` per file);
    ``sizes=False`` skips the one ``lstat`` per sent file that sizes cost.
    """
    out = Walk()
    if matcher is None or not matcher.patterns:
        _walk_plain(str(root), "", out, sizes)
    else:
        _walk_matched(root, matcher, out, sizes)
    return out


Item = tuple[str, str, str]  # (sort key, kind, name) of one directory entry


def _scan(path: str, prefix: str, out: Walk) -> tuple[list[str], list[Item]] | None:
    """One directory: the names of its plain files, and its directories and links as items; None: unreadable.

    A directory's key is its name with "/" appended, so that walking in key
    order yields paths in plain string order ("a.txt" before "a/b").
    Sockets, FIFOs and devices are left out: they are not sent.  Types come
    from the directory entries themselves: no ``stat`` per file.
    """
    files: list[str] = []
    others: list[Item] = []
    try:
        with os.scandir(path) as it:
            for entry in it:
                try:
                    if entry.is_file(follow_symlinks=False):
                        files.append(entry.name)
                    elif entry.is_dir(follow_symlinks=False):
                        others.append((entry.name + "/", DIR, entry.name))
                    elif entry.is_symlink():
                        others.append((entry.name, SYMLINK, entry.name))
                except OSError as exc:  # removed during the walk, on a file system without d_type
                    out.problems.append(Problem(prefix + entry.name, f"cannot stat: {exc.strerror or exc}"))
    except OSError as exc:
        out.problems.append(Problem(prefix.rstrip("/") or ".", f"cannot read directory: {exc.strerror or exc}"))
        return None
    return files, others


def _items(files: list[str], others: list[Item]) -> list[Item]:
    items = [(name, FILE, name) for name in files]
    items += others
    items.sort(key=_key)
    return items


def _key(item: Item) -> str:
    return item[0]


def _size(path: str, rel: str, out: Walk) -> int | None:
    try:
        return os.lstat(path).st_size
    except OSError as exc:
        out.problems.append(Problem(rel, f"cannot stat: {exc.strerror or exc}"))  # removed during the walk
        return None


def _walk_plain(top: str, top_rel: str, out: Walk, sizes: bool) -> None:
    """Every file and link below ``top`` (``top_rel`` its relative path, "" for the root): no pattern applies.

    The hot loop of a large context: a directory of plain files (most of
    them) costs one pass and one sort of its names.
    """
    paths = out.paths
    stack: list[tuple[Iterator[Item], str, str]] = []

    def enter(path: str, prefix: str) -> None:
        scanned = _scan(path, prefix, out)
        if scanned is None:
            return
        files, others = scanned
        if not others and not sizes:
            files.sort()
            paths.extend([prefix + name for name in files])
            return
        stack.append((iter(_items(files, others)), path, prefix))

    enter(top, top_rel + "/" if top_rel else "")
    while stack:
        it, path, prefix = stack[-1]
        for _, kind, name in it:
            rel = prefix + name
            if kind is DIR:
                depth = len(stack)
                enter(f"{path}/{name}", rel + "/")
                if len(stack) > depth:
                    break  # its entries come before the rest of this directory's
                continue
            size = _size(f"{path}/{name}", rel, out) if sizes else 0
            if size is None:
                continue  # removed during the walk
            out.add(Entry(rel, kind, size, None), sizes)
        else:
            stack.pop()


def _walk_matched(root: Path, matcher: PatternMatcher, out: Walk, sizes: bool) -> None:
    """fsutil's walk: each entry decided by ``matches_using_parent_results`` with its parent's bits."""
    stems = _prefix_only(matcher)
    patterns = matcher.patterns
    stack: list[tuple[Iterator[Item], str, str, MatchInfo]] = []
    scanned = _scan(str(root), "", out)
    if scanned is not None:
        stack.append((iter(_items(*scanned)), str(root), "", MatchInfo()))
    while stack:
        it, path, prefix, info = stack[-1]
        for _, kind, name in it:
            rel = prefix + name
            excluded, child_info, decided = matcher.matches_using_parent_results(rel, info)
            if kind is DIR:
                if excluded:
                    if _prunable(matcher, rel, stems):
                        continue
                elif not any(child_info.parent_matched) and not any(_can_match_below(p, rel) for p in patterns):
                    # nothing matched here and no pattern reaches below: every entry inside is sent as is
                    _walk_plain(f"{path}/{name}", rel, out, sizes)
                    continue
                problems = len(out.problems)
                scanned = _scan(f"{path}/{name}", rel + "/", out)
                if excluded:
                    del out.problems[problems:]  # fsutil ignores errors inside a directory it does not send
                if scanned is not None:
                    stack.append((iter(_items(*scanned)), f"{path}/{name}", rel + "/", child_info))
                    break
                continue
            if excluded:
                if matcher.exclusions:
                    documented, pattern = matcher.matches_or_parent_matches(rel)
                    if not documented:
                        out.divergent.append(Divergent(rel, pattern))
                continue
            withheld = matcher.exclusions and matcher.matches_or_parent_matches(rel)[0]
            size = _size(f"{path}/{name}", rel, out) if sizes else 0
            if size is None:
                continue  # removed during the walk
            out.add(Entry(rel, kind, size, decided, withheld), sizes)
        else:
            stack.pop()
