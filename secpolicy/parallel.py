"""Linting many files on every core: same results, same order, as one process.

From a few hundred files the start-up of worker processes pays off; below
that, and where only one core is there, files are linted in this process.
Each worker builds its own engine from the same rules and options, so a
worker's caches (image-map Dockerfiles) are its own: the findings do not
depend on which worker read which file.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from secpolicy.catalog import Rule
from secpolicy.engine import Engine, FileResult, LintOptions
from secpolicy.resolve.images import BaseImage

POOL_THRESHOLD = 300
_engine: Engine | None = None


def _init(rules: Mapping[str, Rule], options: LintOptions, images: Mapping[tuple[str, str], BaseImage]) -> None:
    global _engine  # one engine per worker process, built once
    _engine = Engine(rules, options)
    _engine.images.adopt(images)  # what the parent already resolved (a registry's answers) is not asked again


def _lint(job: tuple[Path, str]) -> FileResult:
    if _engine is None:
        raise RuntimeError("worker started without an engine")
    return _engine.read_and_lint(job[0], job[1])


def workers(count: int) -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 1 if count < POOL_THRESHOLD else min(cpus, 8)


def lint_files(engine: Engine, jobs: Sequence[tuple[Path, str]]) -> list[FileResult]:
    """``read_and_lint`` of every (path, display name), in order."""
    count = workers(len(jobs))
    if count <= 1:
        return [engine.read_and_lint(path, display) for path, display in jobs]
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(jobs) // (count * 8))
    with ProcessPoolExecutor(
        count, mp_context=context, initializer=_init, initargs=(engine.rules, engine.options, engine.images.resolved())
    ) as pool:
        return list(pool.map(_lint, jobs, chunksize=chunk))
