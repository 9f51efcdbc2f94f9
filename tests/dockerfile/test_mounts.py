"""RUN --mount values as BuildKit's commands_runmount.go reads them."""

from __future__ import annotations

from secpolicy.dockerfile.mounts import BIND, CACHE, SECRET, Mount, parse_mount


def test_defaults_to_a_bind_mount_of_the_context_root() -> None:
    mount = parse_mount("target=/src")
    assert mount == Mount(BIND, "", "/src", None)
    assert mount.reads_context


def test_keys_are_case_insensitive_and_have_aliases() -> None:
    assert parse_mount("Type=BIND,SRC=app,DST=/app,ro") == Mount(BIND, "app", "/app", None)
    assert parse_mount("type=bind,source=a,destination=/b") == Mount(BIND, "a", "/b", None)


def test_what_does_not_read_the_context() -> None:
    cache = parse_mount("type=cache,target=/root/.cache")
    assert cache is not None
    assert cache.type == CACHE
    assert not cache.reads_context
    secret = parse_mount("type=secret,id=npm,target=/root/.npmrc")
    assert secret is not None
    assert secret.type == SECRET
    assert not secret.reads_context
    staged = parse_mount("from=build,source=/out,target=/out")
    assert staged is not None
    assert staged.from_ == "build"
    assert not staged.reads_context


def test_values_are_csv_fields_and_expanded_but_from() -> None:
    mount = parse_mount('"source=a,b",target=/x', None)
    assert mount is not None
    assert mount.source == "a,b"
    expand = {"$D": "deploy", "$S": "other"}.get
    mount = parse_mount("source=$D,from=$S,target=/x", expand)
    assert mount is not None
    assert (mount.source, mount.from_) == ("deploy", "$S")
    unknown = parse_mount("source=$NOPE,target=/x", expand)
    assert unknown is not None
    assert unknown.source is None


def test_a_broken_record_is_refused() -> None:
    assert parse_mount('source="a,target=/x') is None
