"""Image references and what is known about the user a base image runs as.

A base image's own USER is unknown unless the project's image map or the
small built-in table below says otherwise: unknown is reported, never assumed
to be safe.  Every built-in entry names the source it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from secpolicy.model import EffectiveUser, Provenance

_DIGEST = re.compile(r"@[A-Za-z0-9_+.-]+:[A-Fa-f0-9]+$")


@dataclass(frozen=True)
class ImageRef:
    """A normalised reference: ``docker.io/library/nginx`` + tag/digest."""

    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text


def parse_ref(text: str) -> ImageRef | None:
    """Parse like ``docker pull`` would; ``None`` for what cannot be a reference."""
    text = text.strip()
    if not text or any(c.isspace() for c in text) or "$" in text:
        return None
    digest = None
    match = _DIGEST.search(text)
    if match:
        digest = match.group(0)[1:]
        text = text[: match.start()]
    tag = None
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
    parts = text.split("/")
    if len(parts) == 1:
        parts = ["docker.io", "library", parts[0]]
    elif not ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = ["docker.io", *parts]
    if parts[0] in ("index.docker.io", "registry-1.docker.io"):
        parts[0] = "docker.io"
    return ImageRef("/".join(parts), tag, digest)


@dataclass(frozen=True)
class _Known:
    matches: Callable[[ImageRef], bool]
    uid: int
    gid: int
    name: str
    source: str


def _repo(prefix: str) -> Callable[[ImageRef], bool]:
    return lambda ref: ref.repository.startswith(prefix)


def _distroless(nonroot: bool) -> Callable[[ImageRef], bool]:
    def match(ref: ImageRef) -> bool:
        if not ref.repository.startswith("gcr.io/distroless/") or (ref.digest and not ref.tag):
            return False
        return ("nonroot" in (ref.tag or "")) == nonroot

    return match


BUILTIN: tuple[_Known, ...] = (
    # Distroless: tags containing "nonroot" set User 65532 ("nonroot"); every
    # other tag runs as root (GoogleContainerTools/distroless README, "Image
    # Contents" and base/base.bzl NONROOT = 65532).
    _Known(_distroless(True), 65532, 65532, "nonroot", "distroless :nonroot tags run as 65532"),
    _Known(_distroless(False), 0, 0, "root", "distroless tags without 'nonroot' run as root"),
    # Chainguard static: "runs as the nonroot user (65532) by default"
    # (images.chainguard.dev/directory/image/static/overview).
    _Known(
        lambda r: r.repository == "cgr.dev/chainguard/static",
        65532,
        65532,
        "nonroot",
        "chainguard static runs as 65532",
    ),
    # nginxinc/docker-nginx-unprivileged Dockerfiles: ARG UID=101, USER $UID.
    _Known(_repo("docker.io/nginxinc/nginx-unprivileged"), 101, 101, "nginx", "nginx-unprivileged runs as 101"),
    # Bitnami non-root containers: "USER 1001" (bitnami/containers README,
    # "Why use a non-root container?"); minideb is a root base image.
    _Known(
        lambda r: r.repository.startswith("docker.io/bitnami/") and r.repository != "docker.io/bitnami/minideb",
        1001,
        0,
        "1001",
        "bitnami images run as 1001",
    ),
    # prometheus/prometheus, alertmanager and node_exporter Dockerfiles: USER
    # nobody (uid 65534 in their busybox base's /etc/passwd).
    _Known(
        lambda r: (
            r.repository
            in {
                f"{host}/{name}"
                for host in ("docker.io/prom", "quay.io/prometheus")
                for name in ("prometheus", "alertmanager", "node-exporter")
            }
        ),
        65534,
        65534,
        "nobody",
        "prometheus images run as nobody (65534)",
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


def unknown_base_user(ref_text: str, reason: str | None = None) -> EffectiveUser:
    why = reason or (
        f"base image {ref_text} sets its own user, which is unknown here: "
        "add it to the image map in secpolicy.yaml or set USER"
    )
    return EffectiveUser(
        uid=None,
        gid=None,
        name=None,
        known=False,
        source=Provenance(f"base image {ref_text}"),
        reason=why,
    )
