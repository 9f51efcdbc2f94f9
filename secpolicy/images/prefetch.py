"""Resolving the images a run will ask for before it asks, concurrently, when they come from a registry.

Linting asks for one base image at a time, file by file (and in worker
processes when there are many files).  With a registry among the sources a
quick scan of the files for the literal references they name (``FROM`` lines
of Dockerfiles, ``image:`` of manifests) lets them all be resolved at once,
a few at a time; the answers land in the resolver and in the on-disk cache,
where every worker finds them.  Answers the cache already holds are read in
line (starting threads would cost more than reading them); the first slow
one sends the rest to the threads.  A reference with a variable, or one that
names an earlier stage, is left to the lint itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secpolicy.resolve.images import ImageResolver

WORKERS = 8  # registries rate-limit; a handful in flight hides the latency without hammering them
MAX_SCAN = 1024 * 1024  # bytes of each file looked at

_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*([^\s$]+)(?:[ \t]+AS[ \t]+(\S+))?", re.IGNORECASE | re.MULTILINE)
_IMAGE = re.compile(r"""[ \t]*(?:-[ \t]+)?["']?image["']?[ \t]*:[ \t]*["']?([^\s"'$#{}]+)""")


def references(paths: Iterable[Path]) -> list[str]:
    """The literal image references the files name, in first-seen order, stage names left out."""
    from secpolicy.discover import is_dockerfile

    seen: dict[str, None] = {}
    for path in paths:
        try:
            with path.open("rb") as fh:
                text = fh.read(MAX_SCAN).decode("utf-8", "replace")
        except OSError:
            continue
        if is_dockerfile(path.name):
            stages: set[str] = set()
            for match in _FROM.finditer(text):
                ref, name = match.group(1), match.group(2)
                if ref.lower() not in stages and ref != "scratch":
                    seen.setdefault(ref, None)
                if name:
                    stages.add(name.lower())
        else:
            for ref in _images(text):
                seen.setdefault(ref, None)
    return list(seen)


def _images(text: str) -> Iterable[str]:
    """``image:`` values, looking only at the lines that hold the word (a CRD's schema is most of a file)."""
    at = text.find("image")
    while at >= 0:
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        match = _IMAGE.match(text, start, end)
        if match is not None:
            yield match.group(1)
        at = text.find("image", end)


IN_LINE = 0.005  # seconds: an answer this quick came from the cache, not from a registry


def prefetch(resolver: ImageResolver, refs: Iterable[str], workers: int = WORKERS) -> None:
    """Resolve ``refs``: in line while the answers come from the cache, on threads from the first that does not."""
    pending = list(refs)
    while pending:
        started = time.perf_counter()
        resolver.image(pending.pop(0))
        if time.perf_counter() - started > IN_LINE:
            break
    if pending:
        with ThreadPoolExecutor(max_workers=min(workers, len(pending))) as pool:
            list(pool.map(resolver.image, pending))
