"""Image references, parsed and normalised as ``docker pull`` does.

Follows the grammar of ``distribution/reference`` (``regexp.go``,
``normalize.go``: ``ParseNormalizedNamed``), which BuildKit uses for ``FROM``:
lower-case path components, an optional registry host (with port, or an IPv6
address in brackets), a tag of at most 128 characters, a digest whose hex
length fits its algorithm, at most 255 characters of name.  ``nginx`` becomes
``docker.io/library/nginx``; ``index.docker.io`` is ``docker.io``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
_LEGACY_DOMAIN = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_DOMAIN = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
_ANCHORED_ID = re.compile(r"[a-f0-9]{64}")
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
# a bound well above any real reference, checked before any regular expression runs
_TEXT_MAX = 4096


class InvalidReference(ValueError):
    """The text is not an image reference; the message is docker's reason."""


@dataclass(frozen=True)
class ImageRef:
    """A normalised reference: ``docker.io/library/nginx`` + tag and/or digest."""

    repository: str
    tag: str | None
    digest: str | None

    @property
    def domain(self) -> str:
        return self.repository.split("/", 1)[0]

    @property
    def path(self) -> str:
        return self.repository.split("/", 1)[1]

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += ":" + self.tag
        if self.digest:
            text += "@" + self.digest
        return text


def _split_domain(name: str) -> tuple[str, str]:
    slash = name.find("/")
    first = name[:slash]
    if slash == -1 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[slash + 1 :]
    if domain == _LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return domain, remainder


def parse(text: str) -> ImageRef:
    """Parse like ``ParseNormalizedNamed``; raise InvalidReference with docker's reason."""
    if text == "":
        raise InvalidReference("repository name must have at least one component")
    if len(text) > _TEXT_MAX:
        raise InvalidReference(f"repository name must not be more than {_NAME_MAX} characters")
    if _ANCHORED_ID.fullmatch(text):
        raise InvalidReference(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_domain(text)
    remote = remainder.split(":", 1)[0] if ":" in remainder else remainder
    if remote.lower() != remote:
        raise InvalidReference(f"invalid reference format: repository name ({remote}) must be lowercase")
    full = f"{domain}/{remainder}"
    match = _REFERENCE.fullmatch(full)
    if match is None:
        if _REFERENCE.fullmatch(full.lower()):
            raise InvalidReference("invalid reference format: repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    name = match.group("name")
    if len(name) - len(domain) - 1 > _NAME_MAX:  # the path alone counts (reference.go Parse, v0.6.0)
        raise InvalidReference(f"repository name must not be more than {_NAME_MAX} characters")
    digest = match.group("digest")
    if digest is not None:
        algorithm, _, hex_part = digest.partition(":")
        want = _DIGEST_HEX_LENGTHS.get(algorithm)
        if want is None:
            raise InvalidReference(f"unsupported digest algorithm: {algorithm}")
        if len(hex_part) != want:
            raise InvalidReference(f"invalid checksum digest length for {algorithm}")
        if hex_part.strip("0123456789abcdef"):  # go-digest: lower-case hex only
            raise InvalidReference("invalid checksum digest format")
    return ImageRef(name, match.group("tag"), digest)


def try_parse(text: str) -> ImageRef | None:
    try:
        return parse(text)
    except InvalidReference:
        return None
