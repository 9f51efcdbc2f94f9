"""An image's config as the sources return it: the user and environment a container starts with.

The config JSON (image-spec ``config.md``, or Docker's
``application/vnd.docker.container.image.v1+json``) is untrusted: it is
size-checked by whoever read it, and here every field is type-checked.
``config`` may be absent or null; ``User`` may be absent (root).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
PLATFORM = "linux/amd64"  # what an index is resolved to unless --platform says otherwise


class ImageError(Exception):
    """An image source could not answer, with the reason shown to the user."""


@dataclass(frozen=True)
class ImageConfig:
    user: str  # config.User as recorded; "" when none (root)
    env: Mapping[str, str] = field(default_factory=dict)
    digest: str | None = None  # the config blob's digest (for a daemon: the image id)
    where: str = ""  # "registry registry-1.docker.io", "oci:./layout", "docker-archive:a.tar", "daemon"
    manifest: str | None = None  # the digest that pins the image (its index, when it has one)
    platform: str | None = None  # os/architecture[/variant] as the config records it


def check_digest(digest: str) -> str:
    """A digest secpolicy can verify: sha256 with 64 lower-case hex digits (all real registries use it)."""
    if not _DIGEST.fullmatch(digest):
        raise ImageError(f"unsupported or malformed digest {digest[:80]!r}")
    return digest


def verify(data: bytes, digest: str) -> bytes:
    if "sha256:" + hashlib.sha256(data).hexdigest() != check_digest(digest):
        raise ImageError(f"content does not match its digest {digest}: refused")
    return data


def json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ImageError(f"{what} is not JSON") from None
    if not isinstance(doc, dict):
        raise ImageError(f"{what} is not a JSON object")
    return doc


def parse_config(data: bytes, *, digest: str | None, where: str, manifest: str | None = None) -> ImageConfig:
    doc = json_object(data, "the image config")
    inner = doc.get("config")
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ImageError("the image config's config is not an object")
    user = inner.get("User")
    user = "" if user is None else user
    if not isinstance(user, str):
        raise ImageError("the image config's User is not a string")
    parts = [doc.get(k) for k in ("os", "architecture", "variant")]
    platform = "/".join(p for p in parts if isinstance(p, str) and p) if isinstance(parts[0], str) else None
    return ImageConfig(user, parse_env(inner.get("Env")), digest, where, manifest, platform or None)


def parse_env(raw: object) -> dict[str, str]:
    """``["K=V", ...]`` as the runtime reads it: split at the first "="; later entries win."""
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ImageError("the image config's Env is not a list of strings")
    env: dict[str, str] = {}
    for item in raw:
        name, eq, value = item.partition("=")
        if eq and name:
            env[name] = value
    return env
