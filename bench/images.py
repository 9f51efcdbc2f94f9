"""Benchmark: what reading base images from a registry adds to a lint of ../shared/corpus, with a warm cache.

Usage: python bench/images.py [--repeat R]   (run by bench/run.py)

The corpus names real images on Docker Hub and elsewhere, and this machine
has no route to them, so the cache is warmed the way a first online run
would leave it: every reference the run asks the registry for (recorded by
a first, offline pass) gets a cache entry and a config blob.  Then, in the
same run, best of R:

* ``secpolicy lint CORPUS`` (builtin table only, the default);
* ``secpolicy lint CORPUS --images registry --images builtin`` (every base
  image answered from the cache: no request leaves the machine).

Target: the second adds less than 10% to the first.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def asked_for() -> list[str]:
    """The references a lint of the corpus asks the registry for (none is answered)."""
    from secpolicy import api
    from secpolicy.images import registry
    from secpolicy.images.config import ImageError

    asked: list[str] = []

    def record(self: object, ref: object) -> object:
        asked.append(str(ref))
        raise ImageError("offline")

    registry.RegistryClient.config = record  # type: ignore[assignment, method-assign]
    api.lint([CORPUS], api.Settings(images=["registry", "builtin"]))
    return sorted(set(asked))


def warm(cache_root: Path, refs: list[str]) -> None:
    from secpolicy.images.cache import ImageCache
    from secpolicy.images.registry import api_host
    from secpolicy.reference import parse

    cache = ImageCache(cache_root)
    for text in refs:
        ref = parse(text)
        blob = json.dumps({"os": "linux", "architecture": "amd64", "config": {"User": "", "Env": ["PATH=/bin"]}})
        digest = "sha256:" + __import__("hashlib").sha256(blob.encode()).hexdigest()
        cache.put_blob(digest, blob.encode())
        reference = ref.digest or ref.tag or "latest"
        key = f"{api_host(ref.domain)}/{ref.path}@{reference}|linux/amd64"
        cache.put_resolved(key, {"config": digest, "manifest": "sha256:" + "0" * 64})


def best_of(cmd: list[str], repeat: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"images: {CORPUS} not present: skipped")
        return 0
    secpolicy = str(Path(sys.executable).parent / "secpolicy")
    with tempfile.TemporaryDirectory() as tmp:
        refs = asked_for()
        warm(Path(tmp) / "secpolicy" / "images", refs)
        env = {**os.environ, "XDG_CACHE_HOME": tmp, "DOCKER_CONFIG": str(Path(tmp) / "no-docker")}
        base = best_of([secpolicy, "lint", str(CORPUS), "--fail-on", "never"], args.repeat, env)
        cmd = [secpolicy, "lint", str(CORPUS), "--fail-on", "never", "--images", "registry", "--images", "builtin"]
        cached = best_of(cmd, args.repeat, env)
    added = (cached - base) / base
    verdict = "ok" if added < 0.10 else "OVER TARGET"
    print(f"images: {len(refs)} base image references in {CORPUS.relative_to(ROOT.parent)}, cache warmed")
    print(f"  builtin only        {base:6.2f} s")
    print(f"  registry (cached)   {cached:6.2f} s   adds {added * 100:5.1f}% (target < 10%)  {verdict}")
    return 0 if added < 0.10 else 1


if __name__ == "__main__":
    raise SystemExit(main())
