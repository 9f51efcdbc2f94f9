"""Image references and what is known about the user a base image runs as.

A base image's own USER is unknown unless the project's image map or the
small built-in table below says otherwise: unknown is reported, never assumed
to be safe.  Every built-in entry names the source it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from secpolicy.model import EffectiveUser, Provenance
from secpolicy.reference import ImageRef, try_parse

if TYPE_CHECKING:
    from secpolicy.config import Config

__all__ = ["BUILTIN", "ImageRef", "ImageResolver", "builtin_user", "parse_ref", "scratch_user", "unknown_base_user"]


def parse_ref(text: str) -> ImageRef | None:
    """A normalised reference, or ``None`` for text docker would not accept."""
    return try_parse(text.strip())


@dataclass(frozen=True)
class _Known:
    matches: Callable[[ImageRef], bool]
    uid: int
    gid: int
    name: str
    source: str


def _repos(*names: str) -> Callable[[ImageRef], bool]:
    wanted = frozenset(names)
    return lambda ref: ref.repository in wanted


# gcr.io/distroless/<image>[-debianN], the images the distroless BUILD file defines
_DISTROLESS = re.compile(
    r"gcr\.io/distroless/(?:static|base|base-nossl|cc|java[0-9]*|nodejs[0-9]*|python3)(?:-debian[0-9]+)?"
)
# its tags: latest, debug, nonroot, debug-nonroot, each also with an -<arch> suffix
_DISTROLESS_TAG = re.compile(r"(latest|debug|nonroot|debug-nonroot)(?:-(?:amd64|arm64|arm|s390x|ppc64le|riscv64))?")


def _distroless(nonroot: bool) -> Callable[[ImageRef], bool]:
    def match(ref: ImageRef) -> bool:
        if not _DISTROLESS.fullmatch(ref.repository):
            return False
        tag = _DISTROLESS_TAG.fullmatch(ref.tag or ("" if ref.digest else "latest"))
        return tag is not None and tag.group(1).endswith("nonroot") == nonroot

    return match


# Each entry is one repository (never a whole namespace: bitnami/git runs as
# root while most bitnami images run as 1001) and names the file it was read from.
BUILTIN: tuple[_Known, ...] = (
    _Known(
        _distroless(True),
        65532,
        65532,
        "nonroot",
        "distroless nonroot tags run as 65532 (GoogleContainerTools/distroless @cd080764af31 common/variables.bzl NONROOT)",
    ),
    _Known(
        _distroless(False),
        0,
        0,
        "root",
        "distroless latest/debug tags run as 0 (GoogleContainerTools/distroless @cd080764af31 static/static.bzl)",
    ),
    _Known(
        _repos("cgr.dev/chainguard/static"),
        65532,
        65532,
        "nonroot",
        "chainguard static runs as 65532 (chainguard-images/images @cd7edd236bf1 images/static/locked_config.json)",
    ),
    _Known(
        _repos("docker.io/nginxinc/nginx-unprivileged"),
        101,
        101,
        "nginx",
        "nginx-unprivileged runs as 101 (nginx/docker-nginx-unprivileged @e26803b6ff7c mainline/debian/Dockerfile: USER $UID, ARG UID=101)",
    ),
    _Known(
        _repos("docker.io/bitnami/postgresql"),
        1001,
        0,
        "1001",
        "bitnami/postgresql runs as 1001 (bitnami/containers @71d91eb5e153 bitnami/postgresql/13/debian-12/Dockerfile: USER 1001)",
    ),
    _Known(
        _repos("docker.io/bitnami/git", "docker.io/bitnami/minideb"),
        0,
        0,
        "root",
        "bitnami/git and bitnami/minideb set no USER and run as root (bitnami/containers @99cf6b83ea0d bitnami/git/2/debian-12/Dockerfile)",
    ),
    _Known(
        _repos("docker.io/prom/prometheus", "quay.io/prometheus/prometheus"),
        65534,
        65534,
        "nobody",
        "prometheus runs as nobody, 65534 (prometheus/prometheus @d15adb9ad7e5 Dockerfile: USER nobody)",
    ),
)


def builtin_user(ref: ImageRef) -> EffectiveUser | None:
    for known in BUILTIN:
        if known.matches(ref):
            return EffectiveUser(
                uid=known.uid,
                gid=known.gid,
                name=known.name,
                known=True,
                source=Provenance(f"base image {ref}: {known.source} (built-in table)"),
                spec=f"{known.uid}:{known.gid}",
            )
    return None


def scratch_user() -> EffectiveUser:
    return EffectiveUser(
        uid=0,
        gid=0,
        name="root",
        known=True,
        source=Provenance("FROM scratch: an empty image has no USER, so the container runs as root"),
        spec="0:0",
    )


def unknown_base_user(
    ref_text: str, reason: str | None = None, *, what: str = "base image", fix: str = "set USER"
) -> EffectiveUser:
    why = reason or (
        f"{what} {ref_text} sets its own user, which is unknown here: add it to the image map in secpolicy.yaml or {fix}"
    )
    return EffectiveUser(
        uid=None,
        gid=None,
        name=None,
        known=False,
        source=Provenance(f"{what} {ref_text}"),
        reason=why,
    )


class ImageResolver:
    """What user an image starts with: the image map, then the built-in table, else unknown.

    The same resolver serves a Dockerfile's base images, a pod's container
    images and ``run``.  An image-map entry may point at a Dockerfile of the
    repository: it is analysed (once; a cycle between entries is reported,
    not followed) and its target stage's user is the image's user.
    """

    def __init__(self, config: Config, build_args: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.config = config
        self.build_args = dict(build_args or {})
        self.cwd = cwd or Path.cwd()
        self._built: dict[tuple[str, str | None], EffectiveUser] = {}
        self._resolving: set[tuple[str, str | None]] = set()

    def user(self, ref_text: str, *, what: str = "base image", fix: str = "set USER") -> EffectiveUser:
        """``what``/``fix`` word the unknown case for the asker: a Dockerfile's base image, a pod's image."""
        ref = parse_ref(ref_text)
        if ref is None:
            return unknown_base_user(ref_text, f"{what} {ref_text!r} is not a valid image reference", what=what)
        entry = self.config.image(ref)
        if entry is None:
            return builtin_user(ref) or unknown_base_user(ref_text, what=what, fix=fix)
        from secpolicy.resolve.user import parse_user
        from secpolicy.sources import display

        shown = display(self.config.path, self.cwd) if self.config.path else "secpolicy.yaml"
        where = f"image map {shown}:{entry.line}"
        if entry.user is not None:
            return parse_user(entry.user, Provenance(f"{what} {ref_text}: {where} sets user {entry.user}"))
        if entry.dockerfile is None:  # the config loader guarantees one of user and dockerfile
            return unknown_base_user(ref_text, f"{where}: the entry gives no user and no dockerfile")
        return self._built_by(entry.dockerfile, entry.target, ref_text, where, what)

    def _built_by(
        self, path: Path, target: str | None, ref_text: str, where: str, what: str = "base image"
    ) -> EffectiveUser:
        key = (str(path.resolve()), target)
        if key in self._built:
            return self._built[key]
        if key in self._resolving:
            return unknown_base_user(ref_text, f"{where}: image map refers back to itself ({path})")
        self._resolving.add(key)
        try:
            result = self._analyse(path, target, ref_text, where, what)
        except Exception as exc:  # an image-map Dockerfile is untrusted input too
            result = unknown_base_user(
                ref_text, f"{where}: cannot resolve {path}: internal error: {type(exc).__name__}"
            )
        finally:
            self._resolving.discard(key)
        self._built[key] = result
        return result

    def _analyse(self, path: Path, target: str | None, ref_text: str, where: str, what: str) -> EffectiveUser:
        from secpolicy import sources
        from secpolicy.dockerfile.instructions import load
        from secpolicy.dockerfile.syntax import DockerfileSyntaxError
        from secpolicy.resolve.dockerfile import BuildError, TargetNotFound, analyze
        from secpolicy.sources import display

        try:
            df = load(sources.read(path), display(path, self.cwd))
            analysis = analyze(df, build_args=self.build_args, target=target, base_user=self.user)
        except (sources.SourceError, DockerfileSyntaxError, TargetNotFound, BuildError) as exc:
            return unknown_base_user(ref_text, f"{where}: cannot resolve {display(path, self.cwd)}: {exc}")
        error = analysis.build_error()
        if error is not None:
            return unknown_base_user(ref_text, f"{where}: {display(path, self.cwd)}:{error.line}: {error.message}")
        user = analysis.target.user
        shown = display(path, self.cwd)
        return replace(
            user, source=Provenance(f"{what} {ref_text} is built by {shown} ({where}); there: {user.source}")
        )
