"""Image references: our parser against docker-image-py (a port of distribution/reference) on generated input."""

from __future__ import annotations

import random

import pytest

from secpolicy.reference import InvalidReference, parse

reference = pytest.importorskip("docker_image.reference", reason="docker-image-py (dev dependency) is not installed")

DOMAINS = [
    "",
    "localhost/",
    "localhost:5000/",
    "example.com/",
    "Example.COM/",
    "127.0.0.1:5000/",
    "[::1]:5000/",
    "[2001:db8::1]/",
    "index.docker.io/",
    "docker.io/",
    "registry-1.docker.io/",
    "sub.do-main.io:443/",
    "-bad.io/",
    "UPPER/",
    "a:b:c/",
]
PATHS = [
    "nginx",
    "library/nginx",
    "a/b/c",
    "a__b",
    "a--b",
    "a---b",
    "a.b",
    "a_b",
    "a___b",
    "a..b",
    "A",
    "-a",
    "a-",
    "a/B",
    "0",
    "a//b",
    "ubuntu",
]
TAGS = ["", ":latest", ":v1.2", ":_x", ":.x", ":" + "t" * 128, ":" + "t" * 129, ":a:b", ":", ":-x"]
HEX = "0123456789abcdef"
DIGESTS = [
    "",
    "@sha256:" + "a" * 64,
    "@sha256:" + "a" * 63,
    "@sha512:" + "b" * 128,
    "@sha256:" + "A" * 64,
    "@md5:" + "c" * 32,
    "@sha256",
]


def references() -> list[str]:
    rng = random.Random(20261201)
    out = {"", "a" * 64, "f" * 64, "x" * 256, "a/" * 127 + "a"}
    while len(out) < 640:
        out.add(rng.choice(DOMAINS) + rng.choice(PATHS) + rng.choice(TAGS) + rng.choice(DIGESTS))
    valid = (DOMAINS[:12], PATHS[:10], TAGS[:4], DIGESTS[:2] + DIGESTS[3:4])
    while len(out) < 840:  # mostly well-formed, so that what is accepted is compared too
        out.add("".join(rng.choice(pieces) for pieces in valid))
    for _ in range(200):  # arbitrary text from the characters references are made of
        out.add("".join(rng.choice("ab.-_:/@Z9") for _ in range(rng.randint(1, 14))))
    return sorted(out)


def theirs(text: str) -> tuple[str, str | None, str | None] | None:
    try:
        ref = reference.Reference.parse_normalized_named(text)
    except Exception:  # its errors are its own classes; refusal is all that is compared
        return None
    return ref["name"], ref.get("tag"), ref.get("digest")


def ours(text: str) -> tuple[str, str | None, str | None] | None:
    try:
        ref = parse(text)
    except InvalidReference:
        return None
    return ref.repository, ref.tag, ref.digest


def test_agrees_with_docker_image_py() -> None:
    cases = references()
    assert len(cases) >= 1000
    disagree = [(text, ours(text), theirs(text)) for text in cases if ours(text) != theirs(text)]
    assert disagree == [], "\n".join(map(repr, disagree[:20]))
    accepted = sum(ours(text) is not None for text in cases)
    assert 200 < accepted < len(cases) - 200  # both sides of the grammar are exercised


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("index.docker.io/nginx:1", "docker.io/library/nginx:1"),
        ("localhost/app", "localhost/app"),
        ("[::1]:5000/app:v1", "[::1]:5000/app:v1"),
        ("Example.com/app", "Example.com/app"),  # an upper-case first component is a domain
        ("ghcr.io/acme/api@sha256:" + "a" * 64, "ghcr.io/acme/api@sha256:" + "a" * 64),
    ],
)
def test_normalisation(text: str, normalised: str) -> None:
    assert str(parse(text)) == normalised


@pytest.mark.parametrize("text", ["Nginx", "a/B", "nginx:" + "t" * 129, "a" * 64, "nginx@sha256:abc", ""])
def test_refused(text: str) -> None:
    with pytest.raises(InvalidReference):
        parse(text)
