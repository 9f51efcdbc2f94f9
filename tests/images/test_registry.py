"""The registry client against a registry in a thread: platforms, tokens, redirects, digests, caps, the cache."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fakeregistry import OCI_MANIFEST, Registry, digest_of, serving

from secpolicy.images import registry as registry_module
from secpolicy.images.cache import ImageCache
from secpolicy.images.config import ImageError
from secpolicy.images.credentials import Credentials
from secpolicy.images.platform import Platform
from secpolicy.images.registry import RegistryClient, is_loopback
from secpolicy.reference import parse

CONFIG = {"architecture": "amd64", "os": "linux", "config": {"User": "1000:1000", "Env": ["PATH=/bin", "APP_UID=1000"]}}


def client(tmp_path: Path, **kwargs: object) -> RegistryClient:
    kwargs.setdefault("credentials", Credentials(tmp_path / "no-docker-config.json"))
    return RegistryClient(**kwargs)  # type: ignore[arg-type]


def test_index_to_the_amd64_config_skipping_attestations(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        digest = reg.add_image("library/demo", "1.0", CONFIG)
        found = client(tmp_path).config(parse(f"{reg.host}/library/demo:1.0"))
    assert found.user == "1000:1000"
    assert found.env == {"PATH": "/bin", "APP_UID": "1000"}
    assert found.digest == digest
    assert found.where == f"registry {reg.host}"
    assert found.platform == "linux/amd64"  # as the config records it
    _, index = reg.manifests["library/demo/1.0"]
    assert found.manifest == digest_of(index)  # the digest that pins the image is its index's
    accept = reg.seen[0].headers["Accept"]
    assert "application/vnd.oci.image.index.v1+json" in accept  # distribution 2.8 hides OCI images otherwise
    assert "application/vnd.docker.distribution.manifest.v2+json" in accept
    assert not any("0000000000" in s.path for s in reg.seen)  # the attestation entry is never fetched


def test_platform_choice(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        reg.add_image("library/demo", "1.0", CONFIG)
        found = client(tmp_path, platform=Platform.parse("linux/arm64")).config(parse(f"{reg.host}/library/demo:1.0"))
        assert found.user == "arm"
        with pytest.raises(ImageError, match="no linux/s390x image"):
            client(tmp_path, platform=Platform.parse("linux/s390x")).config(parse(f"{reg.host}/library/demo:1.0"))
    with pytest.raises(ValueError, match="os/arch"):
        Platform.parse("amd64")


def test_bearer_token_flow(tmp_path: Path) -> None:
    with serving(Registry(token="t0k3n")) as reg:
        reg.add_image("team/app", "v1", CONFIG, platforms=False)
        found = client(tmp_path).config(parse(f"{reg.host}/team/app:v1"))
    assert found.user == "1000:1000"
    token_requests = [s for s in reg.seen if s.path.startswith("/token")]
    assert len(token_requests) == 1  # the token is reused for the blob
    assert "service=test-registry" in token_requests[0].path
    assert "scope=repository%3Ax%3Apull" in token_requests[0].path
    assert "Authorization" not in token_requests[0].headers  # anonymous: no credentials configured


def test_credentials_from_the_docker_config_go_to_the_token_service(tmp_path: Path) -> None:
    with serving(Registry(token="t")) as reg:
        reg.add_image("team/app", "v1", CONFIG, platforms=False)
        auth = base64.b64encode(b"alice:s3cret").decode()
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"auths": {reg.host: {"auth": auth}}}))
        client(tmp_path, credentials=Credentials(config)).config(parse(f"{reg.host}/team/app:v1"))
    [token_request] = [s for s in reg.seen if s.path.startswith("/token")]
    assert token_request.headers["Authorization"] == "Basic " + auth
    assert "s3cret" not in repr(Credentials(config).get(reg.host))


def test_authorization_is_not_sent_on_to_another_host(tmp_path: Path) -> None:
    with serving(Registry()) as cdn, serving(Registry(token="t")) as reg:
        reg.add_image("team/app", "v1", CONFIG, platforms=False)
        cdn.blobs.update(reg.blobs)
        reg.redirect_blobs_to = f"http://{cdn.host}"
        found = client(tmp_path).config(parse(f"{reg.host}/team/app:v1"))
    assert found.user == "1000:1000"
    assert cdn.seen, "the blob came from the second server"
    assert all("Authorization" not in s.headers for s in cdn.seen)
    assert any(s.headers.get("Authorization") == "Bearer t" for s in reg.seen)


def test_content_that_does_not_match_its_digest_is_refused(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        digest = reg.add_image("library/demo", "1.0", CONFIG, platforms=False)
        reg.blobs[digest] = json.dumps({"config": {"User": "0"}}).encode()  # swapped by a hostile registry
        with pytest.raises(ImageError, match="does not match its digest"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:1.0"))
        reg.send_digest = "sha256:" + "1" * 64
        with pytest.raises(ImageError, match="does not match the digest the registry sent"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:1.0"))


def test_a_digest_reference_pins_the_manifest(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        reg.add_image("library/demo", "1.0", CONFIG)
        _, index = reg.manifests["library/demo/1.0"]
        found = client(tmp_path).config(parse(f"{reg.host}/library/demo@{digest_of(index)}"))
        assert found.user == "1000:1000"
        with pytest.raises(ImageError, match="not found"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo@sha256:{'2' * 64}"))


def test_oversized_answers_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module, "MAX_MANIFEST", 64)
    with serving(Registry()) as reg:
        reg.add_image("library/demo", "1.0", CONFIG, platforms=False)
        with pytest.raises(ImageError, match="larger than 64 bytes"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:1.0"))


def test_a_declared_config_size_over_the_cap_is_refused(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        blob = b"{}"
        manifest = json.dumps(
            {
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": digest_of(blob),
                    "size": 1 << 40,
                },
            }
        ).encode()
        reg.manifests["library/demo/1.0"] = (OCI_MANIFEST, manifest)
        with pytest.raises(ImageError, match="over the"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:1.0"))


def test_an_artifact_is_not_an_image(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        blob = b"{}"
        reg.blobs[digest_of(blob)] = blob
        manifest = json.dumps(
            {
                "mediaType": OCI_MANIFEST,
                "config": {
                    "mediaType": "application/vnd.cncf.helm.config.v1+json",
                    "digest": digest_of(blob),
                    "size": 2,
                },
            }
        ).encode()
        reg.manifests["charts/x/1.0"] = (OCI_MANIFEST, manifest)
        with pytest.raises(ImageError, match="not a container image"):
            client(tmp_path).config(parse(f"{reg.host}/charts/x:1.0"))


def test_second_run_is_offline_and_refresh_asks_again(tmp_path: Path) -> None:
    cache_root = tmp_path / "cache"
    with serving(Registry()) as reg:
        reg.add_image("library/demo", "1.0", CONFIG)
        ref = parse(f"{reg.host}/library/demo:1.0")
        client(tmp_path, cache=ImageCache(cache_root)).config(ref)
    found = client(tmp_path, cache=ImageCache(cache_root)).config(ref)  # the server is gone
    assert found.user == "1000:1000"
    with pytest.raises(ImageError, match="unreachable"):
        client(tmp_path, cache=ImageCache(cache_root, refresh=True)).config(ref)
    with pytest.raises(ImageError, match="unreachable"):
        client(tmp_path, cache=ImageCache(cache_root, ttl=-1)).config(ref)  # the tag has gone stale


def test_a_planted_cache_blob_is_dropped(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    digest = digest_of(b"{}")
    cache.put_blob(digest, b'{"config": {"User": "0"}}')  # not what the digest says
    assert cache.blob(digest) is None
    assert not (tmp_path / "blobs" / "sha256" / digest.removeprefix("sha256:")).exists()


def test_https_except_for_loopback_and_insecure_registries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    urls: list[str] = []

    class Refuse:
        def open(self, request: object, timeout: float) -> object:
            urls.append(request.full_url)  # type: ignore[attr-defined]
            raise OSError("no network in this test")

    monkeypatch.setattr(registry_module, "_opener", lambda url="": Refuse())
    for ref in ("registry.example.com/a:1", "nginx:1", "localhost:5000/a:1", "127.0.0.2/a", "[::1]:5000/a"):
        with pytest.raises(ImageError):
            client(tmp_path).config(parse(ref))
    with pytest.raises(ImageError):
        client(tmp_path, insecure=frozenset({"registry.lan:5000"})).config(parse("registry.lan:5000/a:1"))
    assert urls == [
        "https://registry.example.com/v2/a/manifests/1",
        "https://registry-1.docker.io/v2/library/nginx/manifests/1",
        "http://localhost:5000/v2/a/manifests/1",
        "http://127.0.0.2/v2/a/manifests/latest",
        "http://[::1]:5000/v2/a/manifests/latest",
        "http://registry.lan:5000/v2/a/manifests/1",
    ]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("localhost:5000", True),
        ("127.0.0.1", True),
        ("127.8.9.10:80", True),
        ("[::1]:5000", True),
        ("::1", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_registry_that_is_down_is_a_clear_error(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        host = reg.host
    with pytest.raises(ImageError, match=f"{host} unreachable"):
        client(tmp_path, timeout=2.0).config(parse(f"{host}/library/demo:1"))


@pytest.mark.parametrize(
    ("status", "why"),
    [(403, "access denied \\(403\\); docker login"), (429, "rate limited \\(429\\)"), (500, "HTTP 500")],
)
def test_refusals_are_said_plainly(tmp_path: Path, status: int, why: str) -> None:
    with serving(Registry(fail_with=status)) as reg, pytest.raises(ImageError, match=why):
        client(tmp_path).config(parse(f"{reg.host}/library/demo:1"))


def test_a_silent_registry_times_out(tmp_path: Path) -> None:
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never answers
        host = f"127.0.0.1:{silent.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(ImageError, match=r"unreachable: no answer within 0\.3 s"):
            client(tmp_path, timeout=0.3).config(parse(f"{host}/library/demo:1"))
        assert time.monotonic() - start < 5


def test_malformed_answers(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        reg.manifests["library/demo/1"] = (OCI_MANIFEST, b"{not json")
        with pytest.raises(ImageError, match="is not JSON"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:1"))
        reg.manifests["library/demo/2"] = (OCI_MANIFEST, b'{"mediaType": "%s"}' % OCI_MANIFEST.encode())
        with pytest.raises(ImageError, match="names no image config"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:2"))
        reg.manifests["library/demo/3"] = ("application/vnd.oci.image.index.v1+json", b'{"manifests": 5}')
        with pytest.raises(ImageError, match="no manifests list"):
            client(tmp_path).config(parse(f"{reg.host}/library/demo:3"))
