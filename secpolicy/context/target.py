"""A build context as a target: the Dockerfile's analysis, the files sent, the secrets among them, what COPY reads.

COPY and ADD sources (without ``--from``) of the stages the target's build
runs are matched against the sent files the way BuildKit resolves them:
``.`` or ``/`` is the whole context, a directory is everything below it, a
wildcard (Go ``filepath.Match``) matches per path segment, ``--exclude``
drops what it matches.  A COPY in the target's own chain (its ``FROM``
ancestry) puts the file in the image; a COPY in another stage the build runs
puts it in that stage only.  A ``RUN --mount=type=bind`` of the context reads
its source for that step without putting it in the image.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from secpolicy.context.ignore import IgnoreError, MatchInfo, PatternMatcher, go_clean, go_match
from secpolicy.context.secrets import SNIFF_BYTES, SecretFile, classify
from secpolicy.context.source import Listing, ignore_file, list_context

if TYPE_CHECKING:
    from secpolicy.dockerfile.instructions import Instruction
    from secpolicy.resolve.dockerfile import Analysis, StageState


@dataclass(frozen=True)
class Copy:
    instruction: Instruction
    state: StageState
    sources: tuple[str, ...]
    excludes: tuple[str, ...]
    in_image: bool  # a COPY in the target's FROM chain: what it copies is in the image
    built: bool = True  # in a stage the target's build runs (False: a stage the target does not depend on)
    mount: bool = False  # a RUN --mount=type=bind of the context: the step reads it, the image does not get it
    # the copier's bits per directory below a source, as it walks: many files share a directory
    _bits: dict[str, MatchInfo] = field(default_factory=dict, compare=False, repr=False)

    @property
    def whole_context(self) -> bool:
        return any(_clean_source(s) == "." for s in self.sources)

    def reads(self, path: str) -> bool:
        for source in self.sources:
            below = _source_covers(source, path)
            if below is None:
                continue
            # --exclude is matched against the path below the source (fsutil copy.go); a file
            # named as the source itself is never excluded
            if below and self.excludes and self._excluded(below):
                continue
            return True
        return False

    def _excluded(self, path: str) -> bool:
        """fsutil's copier decides each level below the source with its parent's bits (``MatchesUsingParentResults``)."""
        matcher = _exclude_matcher(self.excludes)
        if matcher is None:
            return False
        bits, info, prefix = self._bits, MatchInfo(), ""
        *directories, name = path.split("/")
        try:
            for part in directories:
                prefix = f"{prefix}/{part}" if prefix else part
                known = bits.get(prefix)
                if known is None:
                    known = bits[prefix] = matcher.matches_using_parent_results(prefix, info)[1]
                info = known
            return matcher.matches_using_parent_results(f"{prefix}/{name}" if prefix else name, info)[0]
        except IgnoreError:
            return False  # BuildKit refuses the COPY: it copies nothing, and excludes nothing here


def _clean_source(source: str) -> str:
    """BuildKit joins a source onto "/" (util/system NormalizePath): "../x" and "/x" are the context's "x"."""
    return go_clean("/" + source).lstrip("/") or "."


@lru_cache(maxsize=256)
def _exclude_matcher(patterns: tuple[str, ...]) -> PatternMatcher | None:
    try:
        return PatternMatcher(list(patterns))
    except IgnoreError:
        return None  # BuildKit refuses the COPY; nothing is excluded by it here


def _source_covers(source: str, path: str) -> str | None:
    """The part of ``path`` below ``source`` ("" when the source is the file itself); None: not covered."""
    cleaned = _clean_source(source)
    if cleaned == ".":
        return path
    segments = cleaned.split("/")
    parts = path.split("/")
    if len(parts) < len(segments):
        return None
    if not any(c in cleaned for c in "*?["):
        covered = parts[: len(segments)] == segments
    else:
        try:
            covered = all(go_match(seg, part) for seg, part in zip(segments, parts, strict=False))
        except Exception:  # a pattern BuildKit would refuse: it copies nothing
            covered = False
    return "/".join(parts[len(segments) :]) if covered else None


@dataclass
class ContextTarget:
    analysis: Analysis
    dockerfile: Path
    context: Path
    display: str  # the Dockerfile as shown in findings
    listing: Listing | None = None
    error: IgnoreError | None = None  # the ignore file would fail the build
    ignore: Path | None = None  # the ignore file that applies
    secrets: list[SecretFile] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)

    def copies_of(self, path: str) -> Iterator[Copy]:
        return (c for c in self.copies if c.reads(path))


def _copies(analysis: Analysis) -> list[Copy]:
    chain = {id(s) for s in analysis.target.chain()}
    reachable = {id(s) for s in analysis.reachable}
    out = []
    for state in analysis.states:
        for inst in state.stage.instructions:
            if inst.cmd not in ("copy", "add") or inst.flag("from") is not None:
                continue
            expanded = state.expanded.get(inst, [])  # after ARG/ENV expansion, as the build sees them
            heredocs = {doc.name for doc in inst.heredocs}
            sources = tuple(
                e.value
                for e in expanded[:-1]
                if not e.value.startswith("<<")
                and e.value not in heredocs
                and "://" not in e.value
                and not e.value.startswith("git@")
            )
            excludes = tuple(inst.flag_values("exclude"))
            out.append(Copy(inst, state, sources, excludes, id(state) in chain, id(state) in reachable))
        for inst, mounts in state.mounts.items():
            for mount in mounts:
                if mount.reads_context:
                    # an unresolved source may be any path: the whole context, to stay on the safe side
                    source = mount.source if mount.source is not None else "."
                    out.append(Copy(inst, state, (source or ".",), (), False, id(state) in reachable, mount=True))
    return out


def _head(path: Path) -> bytes | None:
    try:
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError:
        return None


# (context, ignore file) -> what walking it found; Dockerfiles sharing a context share one walk
Walked = tuple[Listing | None, IgnoreError | None, list[SecretFile]]


def build(
    analysis: Analysis,
    dockerfile: Path,
    context: Path,
    display: str,
    cache: dict[tuple[str, str], Walked] | None = None,
) -> ContextTarget:
    target = ContextTarget(analysis, dockerfile, context, display, copies=_copies(analysis))
    target.ignore = ignore_file(context, dockerfile)
    key = (str(context.resolve()), str(target.ignore.resolve()) if target.ignore else "")
    walked = cache.get(key) if cache is not None else None
    if walked is None:
        walked = _walk(context, dockerfile)
        if cache is not None:
            cache[key] = walked
    target.listing, target.error, secrets = walked
    target.secrets = list(secrets)
    return target


def _walk(context: Path, dockerfile: Path) -> Walked:
    try:
        listing = list_context(context, dockerfile)
    except IgnoreError as exc:
        return None, exc, []
    found: list[SecretFile] = []
    from secpolicy.discover import is_dockerfile

    for entry in listing.entries:
        if entry.kind != "file" or entry.content_withheld:
            continue
        name = entry.path.rsplit("/", 1)[-1]
        if is_dockerfile(name) or name.endswith(".dockerignore"):
            continue  # Dockerfiles are judged by the DF rules (DF301 finds tokens in them)
        secret = classify(entry.path, partial(_head, context / entry.path))
        if secret is not None:
            found.append(secret)
    return listing, None, found
