"""Source specs, the resolver's order of sources, credentials, the config parser and the config file keys."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from fakeregistry import Registry, serving
from test_archive import layout_files, write

from secpolicy import config as config_module
from secpolicy.api import Settings, UsageError, image_sources, inspect_image
from secpolicy.config import Config
from secpolicy.images import daemon
from secpolicy.images.cache import ImageCache, default_root
from secpolicy.images.config import ImageError, parse_config, parse_env
from secpolicy.images.credentials import Credentials
from secpolicy.images.sources import ARCHIVE, BUILTIN, DAEMON, OCI, REGISTRY, ImageSources, SourceSpec, parse_spec
from secpolicy.resolve.images import ImageResolver


def test_parse_spec(tmp_path: Path) -> None:
    assert parse_spec("builtin") == SourceSpec(BUILTIN)
    assert parse_spec(" registry ") == SourceSpec(REGISTRY)
    assert parse_spec("daemon") == SourceSpec(DAEMON)
    assert parse_spec("oci:layout", tmp_path) == SourceSpec(OCI, tmp_path / "layout")
    assert parse_spec("docker-archive:/x/a.tar", tmp_path) == SourceSpec(ARCHIVE, Path("/x/a.tar"))
    assert str(parse_spec("oci:/l")) == "oci:/l"
    for bad in ("oci:", "registry:x", "ftp", ""):
        with pytest.raises(ValueError, match="use builtin, registry"):
            parse_spec(bad)


def test_sources_are_made_once(tmp_path: Path) -> None:
    sources = ImageSources([SourceSpec(REGISTRY)], cache_root=tmp_path)
    assert sources.source(SourceSpec(REGISTRY)) is sources.source(SourceSpec(REGISTRY))
    for spec in (SourceSpec(DAEMON), SourceSpec(OCI, tmp_path), SourceSpec(ARCHIVE, tmp_path / "a.tar")):
        assert sources.source(spec) is not None
    with pytest.raises(ValueError, match="no reader"):
        sources.source(SourceSpec(BUILTIN))


def test_first_source_that_knows_answers_and_each_reason_is_kept(tmp_path: Path) -> None:
    layout = write(tmp_path / "layout", layout_files({"1": {"config": {"User": "10001"}}}))
    sources = ImageSources([SourceSpec(OCI, tmp_path / "nowhere"), SourceSpec(BUILTIN), SourceSpec(OCI, layout)])
    resolver = ImageResolver(Config(), sources=sources)
    assert resolver.user("python:3.12").is_root  # builtin answers before the layout is asked
    custom = resolver.image("ghcr.io/acme/app:1")
    assert custom.user.uid == 10001
    assert custom.env_complete
    assert custom.where == f"oci:{layout}"
    assert resolver.image("ghcr.io/acme/app:1") is custom  # looked up once
    alone = ImageResolver(Config(), sources=ImageSources([SourceSpec(OCI, tmp_path / "nowhere")]))
    unknown = alone.user("ghcr.io/acme/app:1")
    assert not unknown.known
    assert "not an OCI image layout" in (unknown.reason or "")


def test_a_name_from_a_real_config_gets_the_uid_the_table_knows(tmp_path: Path) -> None:
    layout = write(tmp_path, layout_files({"3": {"config": {"User": "haproxy"}}}))
    user = ImageResolver(Config(), sources=ImageSources([SourceSpec(OCI, layout)])).user("haproxy:3")
    assert (user.uid, user.name, user.spec) == (99, "haproxy", "haproxy")


def test_image_sources_from_settings_and_config(tmp_path: Path) -> None:
    cfg = Config(image_sources=[SourceSpec(DAEMON)], insecure_registries=["a:5000"], platform="linux/arm64")
    sources = image_sources(Settings(), cfg)
    assert (list(sources.specs), sources.platform, sources.insecure) == (
        [SourceSpec(DAEMON)],
        "linux/arm64",
        frozenset({"a:5000"}),
    )
    sources = image_sources(Settings(images=["registry"], platform="linux/amd64", insecure_registries=["b"]), cfg)
    assert (list(sources.specs), sources.platform) == ([SourceSpec(REGISTRY)], "linux/amd64")
    assert sources.insecure == {"a:5000", "b"}
    assert list(image_sources(Settings(), Config()).specs) == [SourceSpec(BUILTIN)]
    with pytest.raises(UsageError, match="os/arch"):
        image_sources(Settings(platform="amd64"), Config())
    with pytest.raises(UsageError, match="image source"):
        image_sources(Settings(images=["nope"]), Config())


def test_inspect_image_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert inspect_image("memcached:1.6", Settings()).user.uid == 11211
    (tmp_path / "secpolicy.yaml").write_text("images:\n  acme/app: {user: '2000'}\n")
    found = inspect_image("acme/app:1", Settings())
    assert (found.user.uid, found.where) == (2000, "image map")
    (tmp_path / "secpolicy.yaml").write_text("image-sources: 7\n")
    with pytest.raises(UsageError, match="image-sources: must be a list"):
        inspect_image("acme/app:1", Settings())


def test_config_file_keys(tmp_path: Path) -> None:
    path = tmp_path / "secpolicy.yaml"
    path.write_text(
        "image-sources: [registry, 'oci:l', builtin]\ninsecure-registries: [reg.lan:5000]\nplatform: linux/arm64/v8\n"
    )
    cfg = config_module.load(path)
    assert cfg.image_sources == [SourceSpec(REGISTRY), SourceSpec(OCI, tmp_path / "l"), SourceSpec(BUILTIN)]
    assert (cfg.insecure_registries, cfg.platform) == (["reg.lan:5000"], "linux/arm64/v8")
    for text, why in (
        ("image-sources: [ftp]\n", "is not of the form"),
        ("insecure-registries: x\n", "must be a list"),
        ("platform: [x]\n", "must be a string"),
        ("platform: amd64\n", "is not of the form"),
        ("imagesources: []\n", "unknown key"),
    ):
        path.write_text(text)
        with pytest.raises(config_module.ConfigError, match=why):
            config_module.load(path)


def test_docker_credentials(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    auth = base64.b64encode(b"bob:pw").decode()
    path.write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": auth},
                    "ghcr.io": {"identitytoken": "tok"},
                    "bad.io": {"auth": "%%%"},
                    "nocolon.io": {"auth": base64.b64encode(b"x").decode()},
                }
            }
        )
    )
    creds = Credentials(path)
    hub = creds.get("docker.io")
    assert hub is not None
    assert (hub.username, hub.secret) == ("bob", "pw")
    ghcr = creds.get("ghcr.io")
    assert ghcr is not None
    assert (ghcr.username, ghcr.secret) == ("<token>", "tok")
    assert creds.get("bad.io") is None
    assert creds.get("nocolon.io") is None
    assert creds.get("other.io") is None
    assert Credentials(tmp_path / "missing.json").get("docker.io") is None
    path.write_text("[1, 2]")
    assert Credentials(path).get("docker.io") is None


def test_credential_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    helper = tmp_path / "bin" / "docker-credential-fake"
    helper.parent.mkdir()
    helper.write_text('#!/bin/sh\nread server\necho "{\\"Username\\": \\"u-$server\\", \\"Secret\\": \\"s\\"}"\n')
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{helper.parent}{os.pathsep}{os.environ['PATH']}")
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"credHelpers": {"reg.io": "fake"}, "credsStore": "../evil"}))
    found = Credentials(path).get("reg.io")
    assert found is not None
    assert (found.username, found.secret) == ("u-reg.io", "s")
    assert Credentials(path).get("other.io") is None  # the store's name is not a program name: never run


def test_parse_config_checks_every_field() -> None:
    assert parse_config(b'{"config": null}', digest=None, where="x").user == ""
    assert parse_config(b"{}", digest=None, where="x").env == {}
    for data, why in (
        (b"[]", "not a JSON object"),
        (b"nope", "not JSON"),
        (b'{"config": 1}', "config is not an object"),
        (b'{"config": {"User": 0}}', "User is not a string"),
        (b'{"config": {"Env": "A=1"}}', "Env is not a list"),
    ):
        with pytest.raises(ImageError, match=why):
            parse_config(data, digest=None, where="x")
    assert parse_env(["A=1", "B", "=x", "A=2", "C=a=b"]) == {"A": "2", "C": "a=b"}


def test_cache_location_and_stale_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_root() == tmp_path / "secpolicy" / "images"
    cache = ImageCache()
    cache.put_resolved("k", {"config": "sha256:" + "a" * 64})
    assert cache.resolved("k", immutable=False) == {"config": "sha256:" + "a" * 64}
    assert cache.resolved("other", immutable=True) is None
    (cache._ref_path("k")).write_text("{broken")
    assert cache.resolved("k", immutable=False) is None
    blocked = ImageCache(tmp_path / "file-not-dir" / "x")
    (tmp_path / "file-not-dir").write_text("")
    blocked.put_blob("sha256:" + "b" * 64, b"{}")  # cannot write: no error, no cache
    assert blocked.blob("sha256:" + "b" * 64) is None


def test_daemon_socket_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/d.sock")
    assert daemon.sockets() == [tmp_path / "d.sock"]
    monkeypatch.setenv("DOCKER_HOST", "tcp://1.2.3.4:2375")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert tmp_path / "podman" / "podman.sock" in daemon.sockets()
    monkeypatch.setattr(daemon, "sockets", lambda: [tmp_path / "none.sock"])
    with pytest.raises(ImageError, match="no Docker or Podman socket"):
        daemon.Daemon().config(__import__("secpolicy.reference", fromlist=["parse"]).parse("x"))


def test_registry_source_through_the_resolver(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        reg.add_image("team/base", "1", {"config": {"User": "", "Env": ["A=1"]}})
        sources = ImageSources([SourceSpec(REGISTRY)], cache_root=tmp_path)
        found = ImageResolver(Config(), sources=sources).image(f"{reg.host}/team/base:1")
    assert found.user.is_root
    assert found.env == {"A": "1"}
    assert found.where == f"registry {reg.host}"
    assert found.manifest is not None
