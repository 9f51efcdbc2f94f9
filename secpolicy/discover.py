"""Paths on the command line to the Dockerfiles to lint.

Directories are walked without following symbolic links, ``.git`` is
skipped and ``.gitignore`` files are honoured (nested ones too, deeper files
winning, as git does).  Files named on the command line are always linted.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SKIP_DIRS = frozenset({".git", ".hg", ".svn"})
# Dockerfile templates are not Dockerfiles until rendered (and the main source
# of parse errors on real repositories): skipped in the walk, linted when named.
TEMPLATE_SUFFIXES = (".tmpl", ".template", ".tpl", ".j2", ".jinja", ".jinja2", ".erb", ".mustache", ".hbs")


def is_dockerfile(name: str) -> bool:
    if name.endswith(".dockerignore"):
        return False
    return (
        name in ("Dockerfile", "Containerfile")
        or name.startswith(("Dockerfile.", "Containerfile."))
        or name.endswith((".Dockerfile", ".dockerfile"))
    )


def is_walked(name: str) -> bool:
    """A Dockerfile the directory walk lints (templates are left out)."""
    return is_dockerfile(name) and not name.endswith(TEMPLATE_SUFFIXES)


@dataclass(frozen=True)
class Found:
    path: Path
    problem: str | None = None  # set when the path cannot be linted


def _ignore_spec(directory: Path) -> Any | None:
    gitignore = directory / ".gitignore"
    try:
        lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(rel_parts: tuple[str, ...], is_dir: bool, specs: list[tuple[int, Any]]) -> bool:
    verdict = False
    for depth, spec in specs:
        rel = "/".join(rel_parts[depth:]) + ("/" if is_dir else "")
        result = spec.check_file(rel)
        if result.include is not None:
            verdict = result.include
    return verdict


def walk(root: Path, exclude: list[str] | None = None) -> Iterator[Found]:
    real_root = root.resolve()
    specs: list[tuple[int, Any]] = []
    if exclude:
        import pathspec

        specs.append((0, pathspec.GitIgnoreSpec.from_lines(exclude)))

    def visit(directory: Path, parts: tuple[str, ...]) -> Iterator[Found]:
        spec = _ignore_spec(directory)
        if spec is not None:
            specs.append((len(parts), spec))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield Found(directory, f"cannot read directory: {exc.strerror or exc}")
            entries = []
        for entry in entries:
            child = (*parts, entry.name)
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name not in SKIP_DIRS and not _ignored(child, True, specs):
                    yield from visit(Path(entry.path), child)
            elif is_walked(entry.name) and not _ignored(child, False, specs):
                yield _check_file(Path(entry.path), real_root)
        if spec is not None:
            specs.pop()

    yield from visit(root, ())


def _check_file(path: Path, real_root: Path) -> Found:
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return Found(path, "broken or looping symbolic link")
        if not target.is_relative_to(real_root):
            return Found(path, f"symbolic link points outside the linted directory ({target})")
    return Found(path)


def discover(paths: list[Path], exclude: list[str] | None = None) -> Iterator[Found]:
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                yield Found(path, "symbolic link loop: the link never reaches a file")
            else:
                yield Found(path, f"cannot read: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(mode):
            yield from walk(path, exclude)
        else:
            yield Found(path)
