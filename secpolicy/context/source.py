"""Which ignore file applies to a build, and the files that build's context sends.

BuildKit (``frontend/dockerui/config.go``) first reads ``<Dockerfile>.dockerignore``
next to the Dockerfile, named after its basename, and only when that is
missing the context root's ``.dockerignore``; the two are never merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from secpolicy.context.ignore import IgnoreError, PatternMatcher, read_lines
from secpolicy.context.walk import Divergent, Entry, Problem, walk

MAX_IGNORE_BYTES = 4 * 1024 * 1024


def ignore_file(context: Path, dockerfile: Path | None = None) -> Path | None:
    """The ignore file a BuildKit build of ``context`` (with ``dockerfile``, default context/Dockerfile) reads."""
    dockerfile = dockerfile if dockerfile is not None else context / "Dockerfile"
    for candidate in (dockerfile.parent / f"{dockerfile.name}.dockerignore", context / ".dockerignore"):
        if candidate.is_file():
            return candidate
    return None


def read_matcher(path: Path) -> PatternMatcher:
    """The patterns of ``path``; invalid UTF-8 is kept byte for byte, as Go compares bytes."""
    try:
        if path.stat().st_size > MAX_IGNORE_BYTES:
            raise IgnoreError(f"larger than {MAX_IGNORE_BYTES} bytes: not read", build_fails=False)
        data = path.read_bytes()
    except OSError as exc:
        raise IgnoreError(f"cannot read: {exc.strerror or exc}") from None
    return PatternMatcher(read_lines(data.decode("utf-8", "surrogateescape")))


@dataclass
class Listing:
    context: Path
    ignore: Path | None
    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    divergent: list[Divergent] = field(default_factory=list)  # documented as sent, not sent by the walk
    matcher: PatternMatcher | None = None  # the ignore file's patterns

    @property
    def total_bytes(self) -> int:
        return sum(e.size for e in self.entries if not e.content_withheld)


def list_context(context: Path, dockerfile: Path | None = None, *, sizes: bool = True) -> Listing:
    """What the builder receives; raises ``IgnoreError`` (with the ignore file named) when the build would fail."""
    ignore = ignore_file(context, dockerfile)
    matcher = None
    if ignore is not None:
        try:
            matcher = read_matcher(ignore)
        except IgnoreError as exc:
            where = f"{ignore}:{exc.line}" if exc.line else str(ignore)
            raise IgnoreError(f"{where}: {exc.message}", exc.line, exc.message, build_fails=exc.build_fails) from None
    listing = Listing(context, ignore, matcher=matcher)
    try:
        for item in walk(context, matcher, sizes=sizes):
            if isinstance(item, Entry):
                listing.entries.append(item)
            elif isinstance(item, Divergent):
                listing.divergent.append(item)
            else:
                listing.problems.append(item)
    except IgnoreError as exc:  # a pattern Go's regexp refuses fails the build when it is first used
        where = f"{ignore}:{exc.line}" if exc.line else str(ignore)
        raise IgnoreError(f"{where}: {exc.message}", exc.line) from None
    listing.entries.sort(key=lambda e: e.path)
    return listing
