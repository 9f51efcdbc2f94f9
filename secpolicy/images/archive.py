"""Image configs from disk: an OCI image layout directory, or a ``docker save`` archive.

Only ``index.json``, manifests and configs are read, each capped in size and
checked against its digest; layers are never opened.  A layout is untrusted:
a blob path that is a link, or that leaves the layout, is refused.  An
archive is read as a tar stream without extracting anything: the legacy
``manifest.json`` (``Config``, ``RepoTags``) or, since Docker 25, the OCI
layout inside it.  The image is found by its tag (the
``org.opencontainers.image.ref.name`` annotation, or a ``RepoTags`` entry);
a layout or archive that holds a single image answers for any reference.
"""

from __future__ import annotations

import json
import os
import stat
import tarfile
from collections.abc import Callable
from pathlib import Path

from secpolicy.images.config import ImageConfig, ImageError, check_digest, json_object, parse_config, verify
from secpolicy.images.platform import Platform
from secpolicy.images.registry import INDEXES, MAX_CONFIG, MAX_MANIFEST, MAX_NESTING
from secpolicy.reference import ImageRef, try_parse

REF_NAME = "org.opencontainers.image.ref.name"
MAX_INDEX = 4 * 1024 * 1024
MAX_MEMBERS = 1_000_000  # tar headers read before giving up on finding the metadata


def _names(ref: ImageRef) -> set[str]:
    """The ways a tag is written in ``ref.name`` annotations and ``RepoTags``."""
    tag = ref.tag or "latest"
    short = ref.repository.removeprefix("docker.io/library/").removeprefix("docker.io/")
    return {tag, f"{ref.repository}:{tag}", f"{short}:{tag}"}


def _same_image(text: str, ref: ImageRef) -> bool:
    if text in _names(ref):
        return True
    other = try_parse(text)
    return other is not None and other.repository == ref.repository and (other.tag or "latest") == (ref.tag or "latest")


def _from_index(read: Callable[[str, int], bytes], ref: ImageRef, platform: Platform, where: str) -> ImageConfig:
    index = json_object(read("index.json", MAX_INDEX), "index.json")
    entries = [e for e in index.get("manifests") or [] if isinstance(e, dict)]
    named = [e for e in entries if _same_image(str((e.get("annotations") or {}).get(REF_NAME, "")), ref)]
    if ref.digest is not None:
        named = [e for e in entries if e.get("digest") == ref.digest] or named
    chosen = named[0] if named else entries[0] if len(entries) == 1 else None
    if chosen is None:
        raise ImageError(f"{where}: no image tagged {ref.tag or 'latest'} ({len(entries)} images in index.json)")
    digest = check_digest(str(chosen.get("digest", "")))
    for _ in range(MAX_NESTING):
        manifest = json_object(verify(read(_blob(digest), MAX_MANIFEST), digest), digest)
        if manifest.get("mediaType") in INDEXES or "manifests" in manifest:
            matching = [m for m in manifest.get("manifests") or [] if platform.matches(m.get("platform"))]
            if not matching:
                raise ImageError(f"{where}: the image index has no {platform} image (use --platform)")
            digest = check_digest(str(matching[0].get("digest", "")))
            continue
        descriptor = manifest.get("config")
        if not isinstance(descriptor, dict):
            raise ImageError(f"{where}: the manifest {digest} names no config")
        config = check_digest(str(descriptor.get("digest", "")))
        return parse_config(
            verify(read(_blob(config), MAX_CONFIG), config), digest=config, where=where, manifest=digest
        )
    raise ImageError(f"{where}: image indexes nested deeper than {MAX_NESTING}")


def _blob(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")


class Layout:
    """``oci:DIR``: an OCI image layout (image-spec ``image-layout.md``)."""

    def __init__(self, root: Path, platform: Platform) -> None:
        self.root = root
        self.platform = platform
        self.where = f"oci:{root}"

    def config(self, ref: ImageRef) -> ImageConfig:
        if not (self.root / "oci-layout").is_file():
            raise ImageError(f"{self.where}: not an OCI image layout (no oci-layout file)")
        return _from_index(self._read, ref, self.platform, self.where)

    def _read(self, name: str, cap: int) -> bytes:
        # links anywhere below the root are refused: a planted blobs/sha256/x -> /etc/shadow is not read
        for parent in reversed(Path(name).parents):
            if parent != Path(".") and (self.root / parent).is_symlink():
                raise ImageError(f"{self.where}: {parent} is a link: refused")
        try:
            fd = os.open(self.root / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            raise ImageError(f"{self.where}: cannot read {name}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ImageError(f"{self.where}: {name} is not a regular file")
            if info.st_size > cap:
                raise ImageError(f"{self.where}: {name} is larger than {cap} bytes: refused")
            return fh.read(cap + 1)[:cap]


class DockerArchive:
    """``docker-archive:FILE``: what ``docker save`` writes (legacy manifest.json, and OCI since Docker 25)."""

    def __init__(self, path: Path, platform: Platform) -> None:
        self.path = path
        self.platform = platform
        self.where = f"docker-archive:{path}"
        self._members: dict[str, tarfile.TarInfo] | None = None

    def config(self, ref: ImageRef) -> ImageConfig:
        members = self._index()
        if "index.json" in members:
            try:
                return _from_index(self._read, ref, self.platform, self.where)
            except ImageError:
                if "manifest.json" not in members:
                    raise
        if "manifest.json" not in members:
            raise ImageError(f"{self.where}: neither index.json nor manifest.json: not a docker save archive")
        try:
            entries = json.loads(self._read("manifest.json", MAX_INDEX))
        except (ValueError, UnicodeDecodeError):
            raise ImageError(f"{self.where}: manifest.json is not JSON") from None
        if not isinstance(entries, list):
            raise ImageError(f"{self.where}: manifest.json is not a list")
        images = [e for e in entries if isinstance(e, dict) and isinstance(e.get("Config"), str)]
        tagged = [e for e in images if any(_same_image(str(t), ref) for t in e.get("RepoTags") or [])]
        chosen = tagged[0] if tagged else images[0] if len(images) == 1 else None
        if chosen is None:
            raise ImageError(f"{self.where}: no image tagged {ref.tag or 'latest'} ({len(images)} images)")
        name = chosen["Config"]
        data = self._read(name, MAX_CONFIG)
        digest = None
        stem = name.removeprefix("blobs/sha256/").removesuffix(".json")
        if len(stem) == 64:
            digest = f"sha256:{stem}"
            verify(data, digest)  # the file is named by its digest: hold it to that
        return parse_config(data, digest=digest, where=self.where)

    def _index(self) -> dict[str, tarfile.TarInfo]:
        if self._members is None:
            members: dict[str, tarfile.TarInfo] = {}
            try:
                with tarfile.open(self.path, "r:") as tar:  # uncompressed, as docker save writes
                    for count, member in enumerate(tar):
                        if count >= MAX_MEMBERS:
                            break
                        members[member.name.removeprefix("./")] = member
            except (OSError, tarfile.TarError) as exc:
                raise ImageError(f"{self.where}: cannot read the archive: {exc}") from None
            self._members = members
        return self._members

    def _read(self, name: str, cap: int) -> bytes:
        member = self._index().get(name)
        if member is None or not member.isfile():
            raise ImageError(f"{self.where}: {name} is not in the archive (or not a regular file)")
        if member.size > cap:
            raise ImageError(f"{self.where}: {name} is larger than {cap} bytes: refused")
        try:
            with tarfile.open(self.path, "r:") as tar:
                handle = tar.extractfile(member)  # a file object over the archive: nothing is written
                if handle is None:
                    raise ImageError(f"{self.where}: {name} cannot be read")
                return handle.read(cap)
        except (OSError, tarfile.TarError) as exc:
            raise ImageError(f"{self.where}: cannot read {name}: {exc}") from None
