"""The packaged table of well-known images: every entry sourced, every official image covered, lookups exact."""

from __future__ import annotations

import re

import pytest

from secpolicy.images.table import Table, builtin, document
from secpolicy.reference import parse
from secpolicy.resolve.images import builtin_image, builtin_user

SOURCE = re.compile(r"[\w.-]+/[\w.-]+ @[0-9a-f]{12} [^\s#]+(?:#L\d+(?:-\d+)?)?")
RULE_KEYS = {"tags", "user", "source", "uid", "gid", "name", "drops_to", "env", "note"}


def rules() -> list[dict[str, object]]:
    return [rule for entry in document()["images"] for rule in entry["rules"]]


def test_every_rule_names_its_source() -> None:
    bad = [r for r in rules() if not SOURCE.fullmatch(str(r.get("source", "")))]
    assert bad == []


def test_rules_have_known_keys_and_types() -> None:
    for rule in rules():
        assert set(rule) <= RULE_KEYS, rule
        assert isinstance(rule["user"], str)
        tags = rule.get("tags", ["*"])
        assert isinstance(tags, list)
        assert tags
        for key in ("uid", "gid"):
            assert rule.get(key) is None or isinstance(rule[key], int)


def test_every_repository_is_normalised_and_listed_once() -> None:
    seen: set[str] = set()
    for entry in document()["images"]:
        for repository in entry["repositories"]:
            assert str(parse(repository)) == repository  # canonical: docker.io/library/..., no tag
            assert repository not in seen, repository
            seen.add(repository)


def test_every_official_image_is_covered_or_says_why_not() -> None:
    official = document()["official_images"]
    covered = {r.removeprefix("docker.io/library/") for e in document()["images"] for r in e["repositories"]}
    missing = [n for n in official["names"] if n not in covered and n not in official["not_covered"]]
    assert missing == []
    assert len(official["names"]) == 144


@pytest.mark.parametrize(
    ("ref", "uid", "name", "drops"),
    [
        ("python:3.12", 0, "root", None),
        ("python:3.12-slim-bookworm", 0, "root", None),
        ("node:22-alpine", 0, "root", None),
        ("public.ecr.aws/docker/library/python:3.13", 0, "root", None),
        ("postgres:16-alpine", 0, "root", "postgres 70:70 (gosu)"),
        ("influxdb:1.8", 0, "root", None),
        ("bitnami/redis:7.4", 1001, None, None),
        ("bitnami/node:22", 0, "root", None),
        ("postgres:16", 0, "root", "postgres 999:999 (gosu)"),
        ("gradle:8-jdk21", 0, "root", None),
        ("docker:27-dind-rootless", 1000, "rootless", None),
        ("docker:27-dind", 0, "root", None),
        ("wordpress:cli-php8.2", 82, "www-data", None),
        ("wordpress:6-apache", 0, "root", None),
        ("varnish:fresh", 1000, "varnish", None),
        ("varnish:stable", 0, "root", None),
        ("influxdb:1.11-alpine", 1500, "influxdb", None),
        ("influxdb:2.7", 0, "root", "influxdb 1000:1000 (setpriv)"),
        ("influxdb:3-core", 1500, "influxdb3", None),
        ("haproxy:3.0", 99, "haproxy", None),
        ("memcached", 11211, "memcache", None),
        ("solr:9", 8983, None, None),
        ("gcr.io/distroless/static-debian12:nonroot", 65532, "nonroot", None),
        ("gcr.io/distroless/python3-debian12:debug-nonroot-amd64", 65532, "nonroot", None),
        ("gcr.io/distroless/static-debian12", 0, "root", None),
        ("cgr.dev/chainguard/python:latest-dev", 65532, None, None),
        ("cgr.dev/chainguard/go", 0, "root", None),
        ("mcr.microsoft.com/dotnet/aspnet:8.0", 0, "root", None),
        ("mcr.microsoft.com/dotnet/aspnet:8.0-noble-chiseled", 1654, "app", None),
        ("mcr.microsoft.com/dotnet/runtime-deps:9.0-azurelinux3.0-distroless", 1654, "app", None),
        ("bitnami/postgresql:16", 1001, None, None),
        ("bitnami/git:2", 0, "root", None),
        ("registry.k8s.io/pause:3.9", 65535, None, None),
        ("registry.k8s.io/pause:3.2", 0, "root", None),
        ("grafana/grafana:11.0.0", 472, None, None),
        ("nginxinc/nginx-unprivileged:1.27-alpine", 101, "nginx", None),
        ("quay.io/prometheus/prometheus:v2.53.0", 65534, "nobody", None),
        ("registry.access.redhat.com/ubi9/python-312", 1001, None, None),
        ("registry.access.redhat.com/ubi9/ubi-minimal", 0, "root", None),
    ],
)
def test_lookup(ref: str, uid: int, name: str | None, drops: str | None) -> None:
    user = builtin_user(parse(ref))
    assert user is not None
    assert user.known
    assert (user.uid, user.name) == (uid, name)
    assert user.is_root == (uid == 0)
    assert (drops is None) == ("drops to" not in str(user.source))
    if drops:
        assert drops in str(user.source)
    assert "@" in str(user.source)  # the source is named in every explanation


@pytest.mark.parametrize(
    ("ref", "why"),
    [
        ("nginx:1.27-windowsservercore-ltsc2022", "Windows image"),
        ("mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022", "Windows image"),
        ("mariadb@sha256:" + "0" * 64, "pinned by digest only"),  # ubi tags run as mysql, the others as root
        ("varnish:7.4", "not one the table knows"),
    ],
)
def test_known_repository_undecided_reference_is_unknown(ref: str, why: str) -> None:
    image = builtin_image(parse(ref))
    assert image is not None
    assert not image.user.known
    assert why in (image.user.reason or "")


def test_digest_pinned_image_whose_tags_agree_is_known() -> None:
    user = builtin_user(parse("python@sha256:" + "0" * 64))
    assert user is not None
    assert user.is_root
    user = builtin_user(parse("postgres@sha256:" + "0" * 64))  # root either way; the drop differs by variant
    assert user is not None
    assert user.is_root
    assert "postgres 70:70 (gosu) or postgres 999:999 (gosu)" in str(user.source)


@pytest.mark.parametrize("ref", ["bitnami/some-new-image", "ghcr.io/acme/api:1", "gcr.io/distroless/custom"])
def test_unknown_images_are_not_in_the_table(ref: str) -> None:
    assert builtin_image(parse(ref)) is None


def test_env_of_the_image_is_known() -> None:
    image = builtin_image(parse("mcr.microsoft.com/dotnet/sdk:8.0"))
    assert image is not None
    assert image.env == {"APP_UID": "1654"}


def test_first_matching_rule_wins() -> None:
    table = Table(
        {
            "official_images": {"names": [], "not_covered": {}},
            "images": [
                {
                    "repositories": ["docker.io/library/demo"],
                    "rules": [
                        {"tags": ["*-alpine"], "user": "1", "source": "a/b @000000000000 x"},
                        {"user": "", "source": "a/b @000000000000 y"},
                    ],
                }
            ],
        }
    )
    match = table.lookup(parse("demo:1-alpine"))
    assert match is not None
    assert match.rule is not None
    assert match.rule.user == "1"
    match = table.lookup(parse("demo"))
    assert match is not None
    assert match.rule is not None
    assert match.rule.user == ""
    assert builtin() is builtin()  # read once per process
