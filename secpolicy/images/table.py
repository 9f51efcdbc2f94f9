"""The packaged table of well-known images' default users (``secpolicy/data/images.json``).

Each entry holds repositories (never a whole namespace: bitnami/git runs as
root while most bitnami images run as 1001) and ordered tag rules; the first
rule whose glob matches the tag decides.  A rule records ``config.User`` as
the image stores it (``""``: none, so root), the ids of a named user where
the image fixes them, the user an entrypoint drops to (the kubelet and
``runAsNonRoot`` still see root), the ``Env`` entries that matter to a
Dockerfile built on it, and the file it was read from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

from secpolicy.reference import ImageRef

# registries that serve Docker Hub's official images under other names
_MIRRORS = ("public.ecr.aws/docker/library/", "mirror.gcr.io/library/")
_OFFICIAL = "docker.io/library/"
_WINDOWS_TAGS = ("windowsservercore", "nanoserver")


@dataclass(frozen=True)
class Rule:
    tags: tuple[str, ...]
    user: str  # config.User as the image records it; "" (none) is root
    source: str  # "owner/repo @commit path[#Lx-y]"
    uid: int | None = None
    gid: int | None = None
    name: str | None = None  # the user's name where config.User is numeric
    drops_to: str | None = None  # the entrypoint's own privilege drop, which the kubelet does not see
    env: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None

    def matches(self, tag: str) -> bool:
        return any(fnmatchcase(tag, glob) for glob in self.tags)


@dataclass(frozen=True)
class Match:
    """What the table says about one reference: a rule, or why it cannot say."""

    repository: str
    rule: Rule | None = None
    reason: str | None = None  # set when the repository is known but this reference is not decided


class Table:
    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.rules: dict[str, list[Rule]] = {}
        for entry in doc["images"]:
            rules = [_rule(r) for r in entry["rules"]]
            for repository in entry["repositories"]:
                self.rules.setdefault(repository, []).extend(rules)
        self.official = doc["official_images"]

    def lookup(self, ref: ImageRef) -> Match | None:
        """None: the image is not in the table (unknown)."""
        repository = _canonical(ref.repository)
        rules = self.rules.get(repository)
        if rules is None:
            return None
        tag = ref.tag
        if tag is not None and any(w in tag for w in _WINDOWS_TAGS):
            return Match(repository, reason=f"{tag} is a Windows image: its user is not a Linux uid")
        if tag is None and ref.digest is not None:
            # pinned by digest alone: the variant is unknown, so only an answer shared by every tag will do
            if len({(r.user, r.uid, r.gid) for r in rules}) > 1:
                return Match(repository, reason="pinned by digest only, and its tags differ in their default user")
            drops = sorted({r.drops_to for r in rules if r.drops_to})
            return Match(repository, replace(rules[0], drops_to=" or ".join(drops) or None, note=None))
        tag = tag or "latest"
        for rule in rules:
            if rule.matches(tag):
                return Match(repository, rule)
        return Match(repository, reason=f"tag {tag} is not one the table knows for {repository}")


def _canonical(repository: str) -> str:
    for mirror in _MIRRORS:
        if repository.startswith(mirror):
            return _OFFICIAL + repository.removeprefix(mirror)
    return repository


def _rule(raw: Mapping[str, Any]) -> Rule:
    return Rule(
        tags=tuple(raw.get("tags", ["*"])),
        user=raw["user"],
        source=raw["source"],
        uid=raw.get("uid"),
        gid=raw.get("gid"),
        name=raw.get("name"),
        drops_to=raw.get("drops_to"),
        env=dict(raw.get("env", {})),
        note=raw.get("note"),
    )


def document() -> dict[str, Any]:
    # package data sits beside the modules (importlib.resources would cost more to import than the read)
    text = (Path(__file__).resolve().parent.parent / "data" / "images.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@cache
def builtin() -> Table:
    """The packaged table, read once per process (it is package data and never changes)."""
    return Table(document())
