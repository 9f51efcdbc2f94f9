"""Where image configs come from, in the order the user lists them (``--images``, ``image-sources:``).

``builtin`` (the packaged table; the default, and all a pre-commit hook
uses unless told otherwise), ``registry`` (the image's registry, cached),
``daemon`` (the local Docker or Podman), ``oci:DIR`` and
``docker-archive:FILE``.  The first source that knows the image answers;
what each one said otherwise is kept for the "cannot resolve" message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from secpolicy.images.config import ImageConfig
    from secpolicy.reference import ImageRef

BUILTIN, REGISTRY, DAEMON, OCI, ARCHIVE = "builtin", "registry", "daemon", "oci", "docker-archive"
KINDS = (BUILTIN, REGISTRY, DAEMON, OCI, ARCHIVE)


class ConfigSource(Protocol):
    def config(self, ref: ImageRef) -> ImageConfig: ...


@dataclass(frozen=True)
class SourceSpec:
    kind: str
    path: Path | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.path}" if self.path is not None else self.kind


def parse_spec(text: str, base: Path | None = None) -> SourceSpec:
    """``builtin``, ``registry``, ``daemon``, ``oci:DIR``, ``docker-archive:FILE`` (relative to ``base``)."""
    kind, colon, rest = text.strip().partition(":")
    if kind in (BUILTIN, REGISTRY, DAEMON) and not colon:
        return SourceSpec(kind)
    if kind in (OCI, ARCHIVE) and rest:
        path = Path(rest).expanduser()
        return SourceSpec(kind, path if path.is_absolute() or base is None else base / path)
    raise ValueError(
        f"image source {text!r}: use builtin, registry, daemon, oci:DIR or docker-archive:FILE"
        + (f" ({kind}: needs a path)" if kind in (OCI, ARCHIVE) else "")
    )


@dataclass
class ImageSources:
    specs: Sequence[SourceSpec] = (SourceSpec(BUILTIN),)
    platform: str = "linux/amd64"
    refresh: bool = False
    insecure: frozenset[str] = frozenset()
    cache_root: Path | None = None
    _made: dict[SourceSpec, ConfigSource] = field(default_factory=dict)

    @property
    def remote(self) -> bool:
        """Is a registry among the sources (worth resolving ahead, concurrently)?"""
        return any(spec.kind == REGISTRY for spec in self.specs)

    def source(self, spec: SourceSpec) -> ConfigSource:
        """The reader for a source other than builtin, made once (the registry keeps its tokens)."""
        made = self._made.get(spec)
        if made is None:
            from secpolicy.images.platform import Platform

            platform = Platform.parse(self.platform)
            if spec.kind == REGISTRY:
                from secpolicy.images.cache import ImageCache
                from secpolicy.images.registry import RegistryClient

                cache = ImageCache(self.cache_root, refresh=self.refresh)
                made = RegistryClient(insecure=self.insecure, platform=platform, cache=cache)
            elif spec.kind == DAEMON:
                from secpolicy.images.daemon import Daemon

                made = Daemon()
            elif spec.kind == OCI and spec.path is not None:
                from secpolicy.images.archive import Layout

                made = Layout(spec.path, platform)
            elif spec.kind == ARCHIVE and spec.path is not None:
                from secpolicy.images.archive import DockerArchive

                made = DockerArchive(spec.path, platform)
            else:
                raise ValueError(f"no reader for image source {spec}")
            self._made[spec] = made
        return made
