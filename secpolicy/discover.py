"""Paths on the command line to the files to lint: Dockerfiles and YAML/JSON manifests.

A Helm chart's ``templates/`` directory is skipped (its files are Go
templates until rendered: lint ``helm template`` output); files named on the
command line are always linted.

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

from secpolicy.gitignore import IgnoreFile

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


MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def is_manifest(name: str) -> bool:
    """A YAML or JSON file, which may hold Kubernetes objects."""
    return name.lower().endswith(MANIFEST_SUFFIXES)


def is_walked(name: str) -> bool:
    """A Dockerfile (templates are left out) or a YAML/JSON file that may hold Kubernetes objects."""
    return (is_dockerfile(name) and not name.endswith(TEMPLATE_SUFFIXES)) or is_manifest(name)


def is_helm_templates(directory: Path) -> bool:
    """A Helm chart's templates/ directory: Go templates, not manifests, until ``helm template`` renders them."""
    return directory.name == "templates" and (directory.parent / "Chart.yaml").is_file()


@dataclass(frozen=True)
class Found:
    path: Path
    problem: str | None = None  # set when the path cannot be linted


_MAX_GITIGNORE = 1024 * 1024  # a guard, like the Dockerfile size limit


def _ignore_spec(directory: Path) -> IgnoreFile | None:
    gitignore = directory / ".gitignore"
    try:
        if not gitignore.is_file() or gitignore.stat().st_size > _MAX_GITIGNORE:
            return None
        lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return IgnoreFile(lines)


# the .gitignore files that apply in a directory, deepest first: (depth, patterns, outer)
_Chain = tuple[int, IgnoreFile, "_Chain"] | None


def _ignored(rel_parts: tuple[str, ...], is_dir: bool, chain: _Chain) -> bool:
    # the deepest .gitignore with a matching pattern decides, as git does
    while chain is not None:
        depth, spec, chain = chain
        verdict = spec.verdict(rel_parts[depth:], is_dir)
        if verdict is not None:
            return verdict
    return False


def walk(root: Path, exclude: list[str] | None = None) -> Iterator[Found]:
    """Depth first in name order, with an explicit stack: no recursion however deep the tree."""
    real_root = root.resolve()
    excluded = IgnoreFile(exclude) if exclude else None
    stack: list[tuple[Iterator[os.DirEntry[str]], tuple[str, ...], _Chain]] = []

    def enter(directory: Path, parts: tuple[str, ...], chain: _Chain) -> Found | None:
        spec = _ignore_spec(directory)
        if spec is not None:
            chain = (len(parts), spec, chain)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            return Found(directory, f"cannot read directory: {exc.strerror or exc}")
        stack.append((iter(entries), parts, chain))
        return None

    problem = enter(root, (), None)
    if problem is not None:
        yield problem
    while stack:
        entries, parts, chain = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        child = (*parts, entry.name)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            is_dir = False
        if excluded is not None and excluded.verdict(child, is_dir):
            continue  # --exclude wins over any .gitignore
        if is_dir:
            if (
                entry.name not in SKIP_DIRS
                and not _ignored(child, True, chain)
                and not is_helm_templates(Path(entry.path))
            ):
                problem = enter(Path(entry.path), child, chain)
                if problem is not None:
                    yield problem
        elif is_walked(entry.name) and not _ignored(child, False, chain):
            yield _check_file(Path(entry.path), real_root)


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
    """The files to lint; a ``.dockerignore`` stands for the Dockerfiles it applies to."""
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
        elif path.name.endswith(".dockerignore"):
            yield from (Found(p) for p in governed_by(path))
        else:
            yield Found(path)


def governed_by(ignore: Path) -> list[Path]:
    """The Dockerfiles whose build an ignore file applies to: what a changed ``.dockerignore`` asks to re-lint.

    ``X.dockerignore`` is ``X``'s own; ``.dockerignore`` is that of every
    Dockerfile in its directory without an ignore file of its own.
    """
    directory = ignore.parent
    if ignore.name != ".dockerignore":
        own = directory / ignore.name.removesuffix(".dockerignore")
        return [own] if own.is_file() else []
    try:
        names = sorted(entry.name for entry in os.scandir(directory) if entry.is_file(follow_symlinks=False))
    except OSError:
        return []
    return [directory / n for n in names if is_dockerfile(n) and f"{n}.dockerignore" not in names]
