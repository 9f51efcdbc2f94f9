"""Effective user resolution: stage chains, scoping, provenance, unknowns."""

from __future__ import annotations

import pytest

from secpolicy.dockerfile.instructions import load
from secpolicy.model import EffectiveUser, Provenance
from secpolicy.resolve.dockerfile import TargetNotFound, analyze
from secpolicy.resolve.images import builtin_user, parse_ref, unknown_base_user


def user_of(text: str, **kwargs: object) -> EffectiveUser:
    df = load(text, "Dockerfile")

    def lookup(ref: str) -> EffectiveUser:
        parsed = parse_ref(ref)
        return (parsed and builtin_user(parsed)) or unknown_base_user(ref)

    return analyze(df, base_user=lookup, **kwargs).target.user  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "uid", "gid"),
    [
        ("root", 0, 0),
        ("0", 0, 0),
        ("00", 0, 0),
        ("+0", 0, 0),
        ("-0", 0, 0),
        ("root:root", 0, 0),
        ("0:0", 0, 0),
        ("1000", 1000, 0),
        ("1000:1000", 1000, 1000),
        ("1000:root", 1000, 0),
    ],
)
def test_numeric_and_root_spellings(spec: str, uid: int, gid: int) -> None:
    user = user_of(f"FROM alpine\nUSER {spec}\n")
    assert (user.uid, user.gid, user.known) == (uid, gid, True)


def test_named_user_keeps_name_and_unknown_uid() -> None:
    user = user_of("FROM alpine\nUSER app\n")
    assert (user.name, user.uid, user.known, user.is_root) == ("app", None, True, False)


def test_root_by_name_is_case_sensitive() -> None:
    assert not user_of("FROM alpine\nUSER ROOT\n").is_root


def test_useradd_uid_is_used() -> None:
    user = user_of("FROM debian\nRUN useradd --uid 4242 -m svc\nUSER svc\n")
    assert (user.name, user.uid) == ("svc", 4242)


def test_provenance_is_the_deciding_line() -> None:
    user = user_of("FROM alpine AS a\nUSER 1000\nFROM a AS b\nRUN true\nFROM b\n")
    assert user.source == Provenance("USER 1000", "Dockerfile", 2)
    assert str(user.source) == "Dockerfile:2 (USER 1000)"


def test_env_and_arg_values_are_inherited_through_from_stage() -> None:
    # dispatchState.init copies the parent's state; dispatchArg put the ARG value into it
    assert user_of("FROM alpine AS a\nENV U=1000\nFROM a\nUSER $U\n").uid == 1000
    assert user_of("FROM alpine AS a\nARG U=0\nFROM a\nUSER $U\n").uid == 0
    assert user_of("FROM alpine AS a\nARG U=0\nFROM a AS b\nFROM b\nUSER $U\n").uid == 0
    assert user_of("FROM alpine AS a\nARG U\nFROM a\nUSER ${U:-7}\n", build_args={"U": "0"}).uid == 0


@pytest.mark.parametrize(
    ("text", "uid"),
    [
        ("FROM alpine\nENV U=1000\nARG U=0\nUSER $U\n", 0),  # the later ARG wins
        ("FROM alpine\nARG U=0\nENV U=1000\nUSER $U\n", 1000),  # the later ENV wins
        ("FROM alpine\nENV U=1000\nARG U\nUSER $U\n", 1000),  # a bare ARG adds nothing
        ("FROM alpine AS a\nENV U=1000\nFROM a\nARG U=0\nUSER $U\n", 0),  # over an inherited ENV
        ("FROM alpine AS a\nARG U=0\nFROM a\nENV U=1000\nUSER $U\n", 1000),
        ("ARG U=0\nFROM alpine\nENV U=1000\nARG U\nUSER $U\n", 0),  # bare ARG takes the global value
    ],
)
def test_later_of_arg_and_env_wins(text: str, uid: int) -> None:
    assert user_of(text).uid == uid


def test_build_arg_overrides_env_through_a_bare_arg() -> None:
    assert user_of("FROM alpine\nENV U=1000\nARG U\nUSER $U\n", build_args={"U": "0"}).uid == 0


def test_onbuild_triggers_of_the_parent_stage_run_first() -> None:
    user = user_of("FROM alpine AS base\nUSER 1000\nONBUILD USER root\nFROM base\n")
    assert user.uid == 0
    assert user.source == Provenance("ONBUILD USER root of stage base", "Dockerfile", 3)
    # the child's own USER comes after the triggers
    assert user_of("FROM alpine AS base\nONBUILD USER root\nFROM base\nUSER 1000\n").uid == 1000
    # triggers do not carry over to grandchildren: the child ran them
    assert user_of("FROM alpine AS a\nONBUILD USER root\nFROM a AS b\nUSER 1000\nFROM b\n").uid == 1000
    # a trigger's ENV/ARG feed the child's USER
    assert user_of("FROM alpine AS a\nONBUILD ARG U=0\nFROM a\nUSER $U\n").uid == 0
    # the stage that declares a trigger does not run it itself
    assert user_of("FROM alpine\nUSER 1000\nONBUILD USER root\n").uid == 1000


def test_env_pairs_expand_with_the_old_scope() -> None:
    assert user_of("FROM scratch\nENV A=5 A=7 B=$A\nUSER $B\n").uid is None  # $A unset before the ENV: B is ""


def test_scratch_chain_is_closed() -> None:
    user = user_of("FROM scratch\nUSER ${UID:-1234}\n")
    assert (user.uid, user.known) == (1234, True)


def test_build_arg_overrides_default_and_global() -> None:
    text = "ARG UID=1\nFROM alpine\nARG UID\nUSER $UID\n"
    assert user_of(text).uid == 1
    assert user_of(text, build_args={"UID": "77"}).uid == 77


def test_global_arg_in_from_line_selects_stage() -> None:
    text = "ARG BASE=base\nFROM alpine AS base\nUSER 1000\nFROM ${BASE}\n"
    assert user_of(text).uid == 1000
    assert user_of(text, build_args={"BASE": "ubuntu"}).is_root  # the image, not the stage: the table knows it
    assert not user_of(text, build_args={"BASE": "ghcr.io/acme/base"}).known


def test_unresolvable_base_image() -> None:
    user = user_of("FROM $IMAGE\n")
    assert not user.known
    assert "cannot be resolved" in (user.reason or "")


def test_target_selection_and_errors() -> None:
    text = "FROM alpine AS Build\nUSER 5\nFROM alpine\nUSER 6\n"
    assert user_of(text, target="build").uid == 5
    assert user_of(text, target="BUILD").uid == 5
    with pytest.raises(TargetNotFound, match="stages: build, 1"):
        user_of(text, target="nope")


def test_reachable_stages_follow_copy_from_and_mounts() -> None:
    text = (
        "FROM alpine AS a\nFROM alpine AS b\nFROM alpine AS c\nFROM alpine AS unused\n"
        "FROM alpine\nCOPY --from=a /x /x\nRUN --mount=type=bind,from=b,target=/b true\nCOPY --from=2 /y /y\n"
    )
    df = load(text, "Dockerfile")
    analysis = analyze(df, base_user=unknown_base_user)
    assert [s.label for s in analysis.reachable] == ["a", "b", "c", "4"]


@pytest.mark.parametrize(
    ("ref", "uid"),
    [
        ("gcr.io/distroless/static:nonroot", 65532),
        ("gcr.io/distroless/base-debian12:debug-nonroot", 65532),
        ("gcr.io/distroless/static", 0),
        ("bitnami/postgresql:16", 1001),
        ("docker.io/bitnami/postgresql", 1001),
        ("bitnami/git:2", 0),
        ("bitnami/minideb:bookworm", 0),
        ("gcr.io/distroless/static-debian12:latest-amd64", 0),
        ("nginxinc/nginx-unprivileged:1.27-alpine", 101),
        ("prom/prometheus:v2.53.0", 65534),
    ],
)
def test_builtin_base_images(ref: str, uid: int) -> None:
    parsed = parse_ref(ref)
    assert parsed is not None
    user = builtin_user(parsed)
    assert user is not None
    assert user.uid == uid


@pytest.mark.parametrize(
    "ref",
    [
        "bitnami/some-new-image",  # most bitnami images run as 1001, not all: only sourced repositories are known
        "gcr.io/distroless/static:custom-tag",  # a known repository, a tag the table does not know
        "gcr.io/distroless/unknown-image",
        "ghcr.io/acme/api:1",
        "varnish:7.4",
    ],
)
def test_unknown_base_images(ref: str) -> None:
    parsed = parse_ref(ref)
    assert parsed is not None
    user = builtin_user(parsed)
    assert user is None or not user.known


def test_parse_ref_normalises() -> None:
    assert str(parse_ref("nginx")) == "docker.io/library/nginx"
    assert str(parse_ref("nginx:1.27")) == "docker.io/library/nginx:1.27"
    assert str(parse_ref("localhost:5000/app:v1")) == "localhost:5000/app:v1"
    ref = parse_ref("ghcr.io/acme/api@sha256:" + "a" * 64)
    assert ref is not None
    assert ref.repository == "ghcr.io/acme/api"
    assert ref.tag is None
    assert ref.digest
    assert parse_ref("$IMAGE") is None


def test_from_with_a_default_for_an_unset_arg_uses_the_default() -> None:
    user = user_of("ARG BASE\nFROM ${BASE:-gcr.io/distroless/static:nonroot}\n")
    assert (user.known, user.uid) == (True, 65532)
    user = user_of("ARG REGISTRY\nFROM ${REGISTRY}/app:1\n")
    assert not user.known
    assert "ARG REGISTRY has no value" in (user.reason or "")


def test_image_resolver_without_an_engine(tmp_path) -> None:
    from secpolicy import config
    from secpolicy.resolve.images import ImageResolver

    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "Dockerfile").write_text("FROM alpine\nUSER 10001\n")
    (tmp_path / "loop").mkdir()
    (tmp_path / "loop" / "Dockerfile").write_text("FROM acme/loop\n")
    (tmp_path / "secpolicy.yaml").write_text(
        "images:\n  acme/base: {dockerfile: base/Dockerfile}\n  acme/loop: {dockerfile: loop/Dockerfile}\n"
    )
    resolver = ImageResolver(config.load(tmp_path / "secpolicy.yaml"), cwd=tmp_path)
    assert resolver.user("acme/base:1").uid == 10001
    assert resolver.user("acme/base:2") is resolver.user("acme/base:1")  # built once
    loop = resolver.user("acme/loop")
    assert not loop.known
    assert "refers back to itself" in (loop.reason or "")
    assert resolver.user("gcr.io/distroless/static:nonroot").uid == 65532
    assert resolver.user("python:3.12").is_root  # the table knows it
    assert not resolver.user("ghcr.io/acme/other:1").known
