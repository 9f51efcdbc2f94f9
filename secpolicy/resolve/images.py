"""Image references and what is known about the user a base image runs as.

A base image's own USER is unknown unless the project's image map or the
small built-in table below says otherwise: unknown is reported, never assumed
to be safe.  Every built-in entry names the source it comes from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from secpolicy.images import table
from secpolicy.images.sources import BUILTIN, ImageSources
from secpolicy.model import EffectiveUser, Provenance
from secpolicy.reference import ImageRef, try_parse

if TYPE_CHECKING:
    from secpolicy.config import Config, ImageEntry
    from secpolicy.images.config import ImageConfig

__all__ = [
    "BaseImage",
    "ImageRef",
    "ImageResolver",
    "builtin_image",
    "builtin_user",
    "parse_ref",
    "scratch_user",
    "unknown_base_user",
]


def parse_ref(text: str) -> ImageRef | None:
    """A normalised reference, or ``None`` for text docker would not accept."""
    return try_parse(text.strip())


@dataclass(frozen=True)
class BaseImage:
    """What an image starts a stage or a container with: its user and what is known of its ``Env``."""

    user: EffectiveUser
    env: Mapping[str, str] = field(default_factory=dict)
    env_complete: bool = False  # the image's whole Env is known (a real config): every other name is unset
    where: str = "builtin"  # the source that answered: builtin, an image map, a registry, a layout, the daemon
    digest: str | None = None  # the config blob's digest (or a daemon's image id)
    manifest: str | None = None
    platform: str | None = None  # of the config that answered (the table holds no platform)


def builtin_image(ref: ImageRef, text: str | None = None, what: str = "base image") -> BaseImage | None:
    """What the packaged table knows of ``ref`` (``text``: the reference as written); None: not in the table."""
    match = table.builtin().lookup(ref)
    if match is None:
        return None
    shown = text or str(ref)
    short = match.repository.removeprefix("docker.io/library/").removeprefix("docker.io/")
    rule = match.rule
    if rule is None:
        reason = f"{what} {shown}: {match.reason}, so its user is unknown here"
        return BaseImage(unknown_base_user(shown, reason, what=what))
    return BaseImage(_table_user(f"{what} {shown}", short, rule), rule.env)


def _table_user(shown: str, short: str, rule: table.Rule) -> EffectiveUser:
    from secpolicy.resolve.user import parse_user

    spec = rule.user or "0"
    user = parse_user(spec if spec != "root" else "root", Provenance(""))
    uid = user.uid if user.uid is not None else rule.uid
    gid = user.gid if user.group is not None or rule.gid is None else rule.gid
    if uid is not None and uid != 0 and user.group is None and rule.gid is None:
        gid = 0  # a uid without a group runs with gid 0, unless the image's passwd says otherwise
    name = user.name if user.name is not None else rule.name
    if uid == 0:
        name = "root"
    if uid == 0 or name == "root":
        says = f"{short} runs as root by default" + (
            f" (its config sets USER {rule.user})" if rule.user else " (its image sets no USER)"
        )
        if rule.drops_to:
            says += f"; its entrypoint then drops to {rule.drops_to}, which the kubelet and runAsNonRoot do not see"
    elif uid is None:
        says = f"{short} runs as user {name} by default, whose uid the image does not fix"
    else:
        says = f"{short} runs as {name + ' ' if name and not name.isdigit() else ''}uid {uid} by default"
    if rule.note:
        says += f"; {rule.note}"
    return replace(
        user,
        uid=uid,
        gid=gid,
        name=name,
        source=Provenance(f"{shown}: {says} ({rule.source}, secpolicy's table of well-known images)"),
        spec=rule.user or "0",
    )


def config_image(found: ImageConfig, ref_text: str, what: str = "base image") -> BaseImage:
    """An image's real config as the stage's or container's start: its User, and its whole Env."""
    from secpolicy.resolve.user import parse_user

    ref = parse_ref(ref_text)
    pinned = f"{ref.repository}@{found.manifest}" if ref is not None and found.manifest else ref_text
    says = "" if found.user else ": no USER, so it runs as root"
    source = Provenance(f"{what} {ref_text} → {pinned} config.User {json.dumps(found.user)} ({found.where}){says}")
    user = parse_user(found.user or "0", source)
    if user.uid is None and user.name is not None:
        # a named user: the table may know the uid the image gives it (haproxy is 99)
        known = builtin_image(ref) if ref is not None else None
        if known is not None and known.user.name == user.name and known.user.uid is not None:
            user = replace(user, uid=known.user.uid, gid=user.gid if user.gid is not None else known.user.gid)
    if not found.user:
        user = replace(user, name="root", spec="0")
    return BaseImage(user, dict(found.env), True, found.where, found.digest, found.manifest, found.platform)


def builtin_user(ref: ImageRef) -> EffectiveUser | None:
    image = builtin_image(ref)
    return image.user if image is not None else None


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
    """What user and env an image starts with: the image map, then each image source in turn, else unknown.

    The same resolver serves a Dockerfile's base images, a pod's container
    images and ``run``.  An image-map entry may point at a Dockerfile of the
    repository: it is analysed (once; a cycle between entries is reported,
    not followed) and its target stage's user is the image's user.  The
    sources are the packaged table (``builtin``) unless the user names
    others; each reference is looked up once per run.
    """

    def __init__(
        self,
        config: Config,
        build_args: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        sources: ImageSources | None = None,
    ) -> None:
        self.config = config
        self.build_args = dict(build_args or {})
        self.cwd = cwd or Path.cwd()
        self.sources = sources or ImageSources()
        self._built: dict[tuple[str, str | None], EffectiveUser] = {}
        self._resolving: set[tuple[str, str | None]] = set()
        self._looked_up: dict[tuple[str, str], BaseImage] = {}

    def user(self, ref_text: str, *, what: str = "base image", fix: str = "set USER") -> EffectiveUser:
        """``what``/``fix`` word the unknown case for the asker: a Dockerfile's base image, a pod's image."""
        return self.image(ref_text, what=what, fix=fix).user

    def image(self, ref_text: str, *, what: str = "base image", fix: str = "set USER") -> BaseImage:
        ref = parse_ref(ref_text)
        if ref is None:
            return BaseImage(
                unknown_base_user(ref_text, f"{what} {ref_text!r} is not a valid image reference", what=what)
            )
        entry = self.config.image(ref)
        if entry is not None:
            return BaseImage(self._mapped(entry, ref_text, what), where="image map")
        key = (str(ref), what)
        if key not in self._looked_up:
            self._looked_up[key] = self._from_sources(ref, ref_text, what, fix)
        return self._looked_up[key]

    def resolved(self) -> dict[tuple[str, str], BaseImage]:
        """The references looked up so far, for another resolver of the same run (a worker process)."""
        return dict(self._looked_up)

    def adopt(self, known: Mapping[tuple[str, str], BaseImage]) -> None:
        self._looked_up.update(known)

    def _from_sources(self, ref: ImageRef, ref_text: str, what: str, fix: str) -> BaseImage:
        said: list[str] = []
        for spec in self.sources.specs:
            if spec.kind == BUILTIN:
                known = builtin_image(ref, ref_text, what)
                if known is not None and known.user.known:
                    return known
                said.append(f"builtin: {known.user.reason if known else 'not in the table of well-known images'}")
                continue
            from secpolicy.images.config import ImageError  # only when a source beyond the table is asked

            try:
                found = self.sources.source(spec).config(ref)
            except ImageError as exc:
                said.append(str(exc) if str(exc).startswith(str(spec)) else f"{spec}: {exc}")
                continue
            return config_image(found, ref_text, what)
        if said == ["builtin: not in the table of well-known images"]:
            return BaseImage(unknown_base_user(ref_text, what=what, fix=fix), where="")
        reason = f"{what} {ref_text}: its user is unknown here ({'; '.join(said)}): add it to the image map or {fix}"
        return BaseImage(unknown_base_user(ref_text, reason, what=what), where="")

    def _mapped(self, entry: ImageEntry, ref_text: str, what: str) -> EffectiveUser:
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
            analysis = analyze(df, build_args=self.build_args, target=target, base_user=self.image)
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
