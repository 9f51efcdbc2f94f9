"""CTX101-CTX106: secrets a build context sends to the builder or copies into the image, ambiguous or broken
ignore files, and what the context sends that no build needs."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secpolicy import sources
from secpolicy.checks.base import Hit, Params
from secpolicy.model import Location

if TYPE_CHECKING:
    from secpolicy.context.secrets import SecretFile
    from secpolicy.context.target import ContextTarget, Copy


def _shown(path: Path) -> str:
    return sources.display(path, Path.cwd())


def _anchor(target: ContextTarget) -> tuple[int, int]:
    inst = target.analysis.target.stage.from_
    return inst.line, inst.column


def _ignore_line(target: ContextTarget, line: int = 1) -> Location | None:
    listing = target.listing
    if listing is None or listing.ignore is None:
        return None
    return Location(_shown(listing.ignore), line, 1)


def _escaped(text: str, *, line_start: bool = True) -> str:
    """``text`` as a literal .dockerignore pattern: wildcards, classes and escapes escaped, and a leading ! or #."""
    out = "".join("\\" + c if c in "*?[]\\" else c for c in text)
    return "\\" + out if line_start and out.startswith(("!", "#")) else out


def _suggest(secret: SecretFile) -> str:
    """The ignore line that excludes ``secret``: by name at any depth, or its own path for a file found by content."""
    base = posixpath.basename(secret.path)
    if not secret.by_content and "/" in secret.path:
        line = f"**/{_escaped(base, line_start=False)}"
    else:
        line = _escaped(secret.path)
    return _shown_line(line)


def _shown_line(line: str) -> str:
    """An ignore line to add, as it is written, unless it holds characters a message cannot show."""
    return line if line.isprintable() else sources.printable(line)


def _root_only(target: ContextTarget, secret: SecretFile) -> str:
    """The gitignore-ism that let ``secret`` through: a pattern without "/" matches only at the context root."""
    if "/" not in secret.path or target.listing is None or target.listing.matcher is None:
        return ""
    base = posixpath.basename(secret.path)
    hit = None
    for pattern in target.listing.matcher.patterns:
        if "/" not in pattern.text and pattern.match(base):
            hit = pattern  # the last pattern that would decide the name at the root
    if hit is not None and not hit.exclusion:
        return f"; line {hit.line} ({hit.text}) matches only at the context root: write **/{hit.text}"
    return ""


def no_ignore_file(target: ContextTarget, params: Params) -> Iterator[Hit]:
    """CTX101: no .dockerignore applies, and the context holds secrets."""
    if target.listing is None or target.listing.ignore is not None:
        return
    line, column = _anchor(target)
    for secret in target.secrets:
        yield Hit(
            line,
            f"no .dockerignore applies to the context {_shown(target.context)}, so {sources.printable(secret.path)} is sent to the "
            f"builder ({secret.reason}); add a .dockerignore with the line {_suggest(secret)}",
            column,
            None,
            sources.printable(secret.path),
        )


def sent(target: ContextTarget, params: Params) -> Iterator[Hit]:
    """CTX102: a secret the .dockerignore that applies does not exclude (and no COPY into the image reads)."""
    if target.listing is None or target.listing.ignore is None:
        return
    line, column = _anchor(target)
    for secret in target.secrets:
        copies = list(target.copies_of(secret.path))
        if any(c.in_image for c in copies):
            continue  # CTX103
        note = ""
        built = [c for c in copies if c.built and not c.mount]
        mounted = [c for c in copies if c.built and c.mount]
        if built:
            stages = sorted({c.state.label for c in built})
            note = f"; COPY in stage {', '.join(stages)} reads it, which the image gets only if a COPY --from takes it"
        if mounted:
            where = ", ".join(sorted({f"stage {c.state.label} (line {c.instruction.line})" for c in mounted}))
            note += f"; RUN --mount=type=bind in {where} gives it to that step (not to the image, unless the step copies it)"
        elif not built and copies:
            stages = sorted({c.state.label for c in copies})
            note = f"; only a COPY in stage {', '.join(stages)}, which the target does not build, reads it"
        elif not built and not any(c.whole_context for c in target.copies if c.built):
            note = "; BuildKit transfers it only when a COPY or a bind mount reads it, the classic builder always"
        ignore = _shown(target.listing.ignore)
        note += _root_only(target, secret)
        yield Hit(
            line,
            f"{sources.printable(secret.path)} is sent to the builder: {ignore} does not exclude it ({secret.reason}){note}; "
            f"add the line {_suggest(secret)} to {ignore}",
            column,
            None,
            sources.printable(secret.path),
            _ignore_line(target),
        )


def copied(target: ContextTarget, params: Params) -> Iterator[Hit]:
    """CTX103: a COPY/ADD in the target's chain copies a secret of the context into the image."""
    if target.listing is None:
        return
    ignore = _shown(target.listing.ignore) if target.listing.ignore else "a .dockerignore"
    for secret in target.secrets:
        for copy in target.copies_of(secret.path):
            if not copy.in_image:
                continue
            inst = copy.instruction
            named = " ".join(copy.sources)
            yield Hit(
                inst.line,
                f"{inst.keyword} {named} in stage {copy.state.label} copies {sources.printable(secret.path)} into the image "
                f"({secret.reason}); exclude it in {ignore} ({_suggest(secret)}), and if the build needs it, "
                "use RUN --mount=type=secret instead",
                inst.column,
                f"stage {copy.state.label}",
                sources.printable(secret.path),
            )
            break


def invalid_ignore_file(target: ContextTarget, params: Params) -> Iterator[Hit]:
    """CTX105: the ignore file has a pattern the build rejects."""
    if target.error is None:
        return
    line, column = _anchor(target)
    at = Location(_shown(target.ignore), target.error.line or 1, 1) if target.ignore is not None else None
    consequence = "the build fails on this ignore file" if target.error.build_fails else "the context is not judged"
    yield Hit(line, f"{target.error.reason} ({consequence})", column, None, "ignore-file", at)


def ambiguous_order(target: ContextTarget, params: Params) -> Iterator[Hit]:
    """CTX104: the documented semantics (last match wins over a path and its parents) and the walk disagree."""
    listing = target.listing
    if listing is None or listing.ignore is None:
        return
    line, column = _anchor(target)
    ignore = _shown(listing.ignore)
    for entry in listing.entries:
        if entry.content_withheld:
            yield Hit(
                line,
                f"{ignore} is ambiguous for {sources.printable(entry.path)}: the walk sends it, but its patterns read in order exclude "
                "it, so BuildKit sends it empty and the classic builder with its content; reorder the lines so "
                "the exception comes last",
                column,
                None,
                sources.printable(entry.path),
                _ignore_line(target, entry.decided.line or 1) if entry.decided else _ignore_line(target),
            )
    for item in listing.divergent:
        where = f" by line {item.documented.line} ({item.documented.source})" if item.documented else ""
        yield Hit(
            line,
            f"{ignore} is ambiguous for {sources.printable(item.path)}: read in order its patterns include it{where}, but the walk "
            "does not send it (the exception names a parent directory the walk has already excluded); "
            "name the files in the exception instead",
            column,
            None,
            sources.printable(item.path),
            _ignore_line(target, item.documented.line or 1) if item.documented else _ignore_line(target),
        )


@dataclass(frozen=True)
class BloatParams:
    directories: tuple[str, ...] = (
        ".git",
        "node_modules",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".gradle",
        ".terraform",
        "target",
        "dist",
        "build",
        ".next",
        "coverage",
    )
    large_file_bytes: int = 10 * 1024 * 1024


def _size(total: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if total < 1024 or unit == "GiB":
            return f"{total} byte{'s' if total != 1 else ''}" if unit == "bytes" else f"{total:.1f} {unit}"
        total /= 1024  # type: ignore[assignment]
    return str(total)


def _names(copy: Copy, key: str) -> bool:
    """Does a source of ``copy`` name ``key`` or something inside it (not just an ancestor of it)?"""
    from secpolicy.context.ignore import go_clean

    for source in copy.sources:
        cleaned = go_clean(source.lstrip("/"))
        if cleaned == key or cleaned.startswith(key + "/"):
            return True
    return False


def bloat(target: ContextTarget, params: BloatParams) -> Iterator[Hit]:
    """CTX106: trees and large files sent to the builder that no COPY names (or that COPY . bakes into the image)."""
    listing = target.listing
    if listing is None:
        return
    wanted = set(params.directories)
    groups: dict[str, list[int]] = {}  # the bloat directory (or large file) -> [files, bytes]
    for entry in listing.entries:
        if entry.content_withheld:
            continue
        parts = entry.path.split("/")
        key = next(("/".join(parts[: i + 1]) for i, part in enumerate(parts[:-1]) if part in wanted), None)
        if key is None and entry.size >= params.large_file_bytes:
            key = entry.path
        if key is not None:
            counts = groups.setdefault(key, [0, 0])
            counts[0] += 1
            counts[1] += entry.size
    line, column = _anchor(target)
    ignore = _shown(listing.ignore) if listing.ignore else "a .dockerignore"
    paths = {e.path for e in listing.entries}
    for key, (files, total) in sorted(groups.items()):
        tree = key not in paths
        if any(_names(c, key) for c in target.copies if c.built):
            continue  # a COPY names it: wanted in the build
        probe = f"{key}/x" if tree else key
        baked = [c for c in target.copies if c.in_image and c.reads(probe)]
        name = key.rsplit("/", 1)[-1]
        # a well-known tree is dropped wherever it is; a large file by its own path
        line_to_add = f"**/{_escaped(name, line_start=False)}" if tree and "/" in key else _escaped(key)
        count = f"{files} file{'s' if files != 1 else ''}"
        shown = sources.printable(key)
        what = f"{shown}/ ({count}, {_size(total)})" if tree else f"{shown} ({_size(total)})"
        if baked:
            inst = baked[0].instruction
            named = " ".join(baked[0].sources)
            how = f"is sent to the builder and {inst.keyword} {named} (line {inst.line}) bakes it into the image"
        else:
            how = "is sent to the builder (by the classic builder; BuildKit only when a COPY reads it) and no COPY names it"
        yield Hit(
            line,
            f"{what} {how}: add {_shown_line(line_to_add)} to {ignore}",
            column,
            None,
            shown,
            _ignore_line(target),
        )
