"""Which ignore file applies to a build, and the files that build's context sends.

BuildKit (``frontend/dockerui/config.go``) first reads ``<Dockerfile>.dockerignore``
next to the Dockerfile, named after its basename, and only when that is
missing the context root's ``.dockerignore``; the two are never merged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from secpolicy.context.ignore import IgnoreError, PatternMatcher, read_lines
from secpolicy.context.walk import Divergent, Entry, Problem, Walk, walk

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
    walked: Walk = field(default_factory=Walk)
    matcher: PatternMatcher | None = None  # the ignore file's patterns

    @property
    def paths(self) -> list[str]:
        """The files and links sent, sorted."""
        return self.walked.paths

    @cached_property
    def entries(self) -> list[Entry]:
        return self.walked.entries()

    @property
    def problems(self) -> list[Problem]:
        return self.walked.problems

    @property
    def divergent(self) -> list[Divergent]:
        """Documented as sent, not sent by the walk."""
        return self.walked.divergent

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
    try:
        walked = walk(context, matcher, sizes=sizes)
    except IgnoreError as exc:  # a pattern Go's regexp refuses fails the build when it is first used
        where = f"{ignore}:{exc.line}" if exc.line else str(ignore)
        raise IgnoreError(f"{where}: {exc.message}", exc.line, exc.message, build_fails=exc.build_fails) from None
    return Listing(context, ignore, walked, matcher)
