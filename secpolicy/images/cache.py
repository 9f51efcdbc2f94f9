"""The image cache: config blobs by digest, and what a tag resolved to, for a while.

Under ``$XDG_CACHE_HOME/secpolicy/images`` (``~/.cache/...`` by default), so
that a second run is offline.  Blobs are content-addressed and checked
against their digest on every read (a corrupt or planted file is dropped);
a tag is re-resolved after ``ttl`` seconds or with ``--refresh-images``; a
digest reference never expires.  A cache that cannot be written is not an
error: the run goes on without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from secpolicy.images.config import ImageError, check_digest, verify

TAG_TTL = 24 * 3600.0
MAX_ENTRY = 64 * 1024


def default_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secpolicy" / "images"


class ImageCache:
    def __init__(self, root: Path | None = None, *, ttl: float = TAG_TTL, refresh: bool = False) -> None:
        self.root = root if root is not None else default_root()
        self.ttl = ttl
        self.refresh = refresh

    def blob(self, digest: str) -> bytes | None:
        path = self._blob_path(digest)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        try:
            return verify(data, digest)
        except ImageError:
            path.unlink(missing_ok=True)
            return None

    def put_blob(self, digest: str, data: bytes) -> None:
        self._write(self._blob_path(digest), data)

    def resolved(self, key: str, *, immutable: bool) -> dict[str, str] | None:
        """What ``key`` (registry, repository, reference, platform) resolved to, unless stale or refreshing."""
        if self.refresh and not immutable:
            return None
        path = self._ref_path(key)
        try:
            if path.stat().st_size > MAX_ENTRY:
                return None
            entry = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        if not immutable and time.time() - float(entry.get("time", 0)) > self.ttl:
            return None
        found = entry.get("found")
        if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
            return None
        return found

    def put_resolved(self, key: str, found: dict[str, str]) -> None:
        entry = {"key": key, "time": time.time(), "found": found}
        self._write(self._ref_path(key), json.dumps(entry).encode())

    def _blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / check_digest(digest).removeprefix("sha256:")

    def _ref_path(self, key: str) -> Path:
        return self.root / "refs" / hashlib.sha256(key.encode()).hexdigest()

    def _write(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_name(f".{path.name}.{os.getpid()}")
            temporary.write_bytes(data)
            os.replace(temporary, path)
        except OSError:
            pass  # no cache this run: the next run asks again
