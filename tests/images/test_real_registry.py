"""The registry client against the real distribution registry (Debian's docker-registry), on loopback.

The registry demands bearer tokens from a small token server of the test's
own (RS256 tokens signed with openssl); images are pushed by the test:
single-platform, and a multi-platform index with BuildKit-style attestation
manifests.  A front server redirects blob downloads to another host:port,
as Docker Hub redirects to its CDN.  skopeo copies the images into a real
OCI layout and a real docker-archive.  CI installs the tools (dev.sh test,
as root); elsewhere these tests are skipped and say why.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fakeregistry import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, Seen, digest_of

from secpolicy.images.archive import DockerArchive, Layout
from secpolicy.images.config import ImageError
from secpolicy.images.credentials import Credentials
from secpolicy.images.platform import Platform
from secpolicy.images.registry import RegistryClient
from secpolicy.reference import parse

BINARY = shutil.which("docker-registry")
OPENSSL = shutil.which("openssl")
SKOPEO = shutil.which("skopeo")
pytestmark = pytest.mark.skipif(
    BINARY is None or OPENSSL is None,
    reason="docker-registry and openssl are not installed (apt-get install docker-registry openssl; "
    "dev.sh test does as root)",
)
AMD64 = Platform.parse("linux/amd64")
SERVICE, ISSUER = "test-registry", "test-issuer"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Tokens:
    """Signs registry tokens (distribution's token auth: RS256, the certificate in x5c)."""

    key: Path
    cert_der: bytes
    issued: list[str] = field(default_factory=list)

    def token(self, scope: str) -> str:
        now = int(time.time())
        access = []
        if scope:
            kind, name, actions = scope.split(":", 2)
            access = [{"type": kind, "name": name, "actions": actions.split(",")}]
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {
            "iss": ISSUER,
            "sub": "test",
            "aud": SERVICE,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now,
            "jti": hashlib.sha256(f"{now}{scope}{len(self.issued)}".encode()).hexdigest(),
            "access": access,
        }
        signing = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        assert OPENSSL is not None
        signature = subprocess.run(
            [OPENSSL, "dgst", "-sha256", "-sign", str(self.key)],
            input=signing.encode(),
            capture_output=True,
            check=True,
        ).stdout
        self.issued.append(scope)
        return f"{signing}.{_b64(signature)}"


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    return server, f"127.0.0.1:{server.server_address[1]}"


def _quiet(cls: type[BaseHTTPRequestHandler]) -> type[BaseHTTPRequestHandler]:
    cls.log_message = lambda self, format, *args: None  # type: ignore[method-assign]
    return cls


@dataclass
class Real:
    host: str  # the registry
    tokens: Tokens
    front: str = ""  # redirects blob downloads to the CDN
    cdn_seen: list[Seen] = field(default_factory=list)

    def authorized(self, request: urllib.request.Request, scope: str) -> urllib.request.Request:
        request.add_header("Authorization", f"Bearer {self.tokens.token(scope)}")
        return request


@pytest.fixture
def real(tmp_path: Path) -> Iterator[Real]:
    assert BINARY is not None
    assert OPENSSL is not None
    key, cert = tmp_path / "tok.key", tmp_path / "tok.crt"
    subprocess.run(
        [
            OPENSSL,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=test-token",
        ],
        capture_output=True,
        check=True,
    )
    der = subprocess.run([OPENSSL, "x509", "-in", str(cert), "-outform", "DER"], capture_output=True, check=True).stdout
    tokens = Tokens(key, der)

    @_quiet
    class TokenHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            body = json.dumps({"token": tokens.token(query.get("scope", [""])[0]), "expires_in": 600}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    token_server, token_host = _serve(TokenHandler)
    port = _free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'data'}}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
        f"auth: {{token: {{realm: 'http://{token_host}/token', service: {SERVICE}, issuer: {ISSUER}, "
        f"rootcertbundle: {cert}}}}}\n"
    )
    process = subprocess.Popen([BINARY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = Real(f"127.0.0.1:{port}", tokens)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://{result.host}/v2/", timeout=1).close()
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 401:
                    break  # up, and asking for a token
            except (urllib.error.URLError, OSError):
                time.sleep(0.025)
        else:
            pytest.fail("docker-registry did not start")
        servers = _front_and_cdn(result)
        yield result
    finally:
        process.terminate()
        process.wait(timeout=10)
        token_server.shutdown()
        for server in locals().get("servers", []):
            server.shutdown()


def _front_and_cdn(real: Real) -> list[ThreadingHTTPServer]:
    """A front that passes requests to the registry but redirects blob GETs to a CDN on another port."""

    @_quiet
    class CDN(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            real.cdn_seen.append(Seen(self.path, dict(self.headers.items())))
            name = self.path.split("/blobs/")[0].removeprefix("/v2/")
            request = real.authorized(
                urllib.request.Request(f"http://{real.host}{self.path}"), f"repository:{name}:pull"
            )
            with urllib.request.urlopen(request) as upstream:
                body = upstream.read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    cdn, cdn_host = _serve(CDN)

    @_quiet
    class Front(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if "/blobs/" in self.path:
                self.send_response(307)
                self.send_header("Location", f"http://{cdn_host}{self.path}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")}
            request = urllib.request.Request(f"http://{real.host}{self.path}", headers=headers)
            try:
                upstream = urllib.request.urlopen(request)
                code = upstream.status
            except urllib.error.HTTPError as exc:
                upstream, code = exc, exc.code
            body = upstream.read()
            self.send_response(code)
            for name in ("Content-Type", "Docker-Content-Digest", "WWW-Authenticate"):
                if upstream.headers.get(name):
                    self.send_header(name, upstream.headers[name])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    front, real.front = _serve(Front)
    return [cdn, front]


def _push_blob(real: Real, name: str, data: bytes) -> str:
    scope = f"repository:{name}:pull,push"
    start = real.authorized(
        urllib.request.Request(f"http://{real.host}/v2/{name}/blobs/uploads/", method="POST"), scope
    )
    with urllib.request.urlopen(start) as response:
        location = response.headers["Location"]
    if location.startswith("/"):
        location = f"http://{real.host}{location}"
    digest = digest_of(data)
    put = urllib.request.Request(
        f"{location}{'&' if '?' in location else '?'}digest={digest}",
        data=data,
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(real.authorized(put, scope)):
        return digest


def _push_manifest(real: Real, name: str, ref: str, kind: str, body: bytes) -> None:
    put = urllib.request.Request(
        f"http://{real.host}/v2/{name}/manifests/{ref}", data=body, method="PUT", headers={"Content-Type": kind}
    )
    with urllib.request.urlopen(real.authorized(put, f"repository:{name}:pull,push")):
        pass


def _image(real: Real, name: str, config: dict[str, object]) -> bytes:
    blob = json.dumps(config).encode()
    digest = _push_blob(real, name, blob)
    layer = _push_blob(real, name, b"layer bytes that are never read")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": digest, "size": len(blob)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 31}],
        }
    ).encode()
    _push_manifest(real, name, digest_of(manifest), OCI_MANIFEST, manifest)
    return manifest


def _multi_platform(real: Real, name: str, tag: str) -> tuple[bytes, str]:
    amd = _image(real, name, {"os": "linux", "architecture": "amd64", "config": {"User": "1000:1000", "Env": ["A=1"]}})
    arm = _image(real, name, {"os": "linux", "architecture": "arm64", "variant": "v8", "config": {"User": "arm"}})
    statement = _push_blob(real, name, b'{"_type": "https://in-toto.io/Statement/v0.1"}')
    empty = _push_blob(real, name, b"{}")
    attestation = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": empty, "size": 2},
            "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": statement, "size": 46}],
        }
    ).encode()
    _push_manifest(real, name, digest_of(attestation), OCI_MANIFEST, attestation)
    entries = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest_of(attestation),
            "size": len(attestation),
            "platform": {"os": "unknown", "architecture": "unknown"},
            "annotations": {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": digest_of(amd),
            },
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest_of(arm),
            "size": len(arm),
            "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
        },
        {
            "mediaType": OCI_MANIFEST,
            "digest": digest_of(amd),
            "size": len(amd),
            "platform": {"os": "linux", "architecture": "amd64"},
        },
    ]
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    _push_manifest(real, name, tag, OCI_INDEX, index)
    return index, digest_of(amd)


def client(tmp_path: Path, **kwargs: object) -> RegistryClient:
    return RegistryClient(credentials=Credentials(tmp_path / "none.json"), **kwargs)  # type: ignore[arg-type]


def test_token_auth_multi_platform_and_attestations(real: Real, tmp_path: Path) -> None:
    index, _ = _multi_platform(real, "library/demo", "1.0")
    single = _image(real, "team/single", {"os": "linux", "architecture": "amd64", "config": {"User": "65532"}})
    _push_manifest(real, "team/single", "v1", OCI_MANIFEST, single)
    before = len(real.tokens.issued)
    for ref in (f"{real.host}/library/demo:1.0", f"{real.host}/library/demo@{digest_of(index)}"):
        found = client(tmp_path).config(parse(ref))
        assert (found.user, dict(found.env), found.platform) == ("1000:1000", {"A": "1"}, "linux/amd64"), ref
        assert found.manifest == digest_of(index)
    assert "repository:library/demo:pull" in real.tokens.issued[before:]  # the scope the registry asked for
    arm = client(tmp_path, platform=Platform.parse("linux/arm64")).config(parse(f"{real.host}/library/demo:1.0"))
    assert arm.user == "arm"
    assert client(tmp_path).config(parse(f"{real.host}/team/single:v1")).user == "65532"
    with pytest.raises(ImageError, match="not found"):
        client(tmp_path).config(parse(f"{real.host}/library/demo:2.0"))
    with pytest.raises(ImageError, match="no linux/s390x image"):
        client(tmp_path, platform=Platform.parse("linux/s390x")).config(parse(f"{real.host}/library/demo:1.0"))


def test_blob_redirected_to_another_host_gets_no_authorization(real: Real, tmp_path: Path) -> None:
    _multi_platform(real, "library/demo", "1.0")
    found = client(tmp_path).config(parse(f"{real.front}/library/demo:1.0"))
    assert found.user == "1000:1000"
    assert real.cdn_seen, "the config blob came through the redirect"
    assert all("Authorization" not in seen.headers for seen in real.cdn_seen)


@pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed (apt-get install skopeo; dev.sh test does as root)")
def test_layouts_and_archives_written_by_skopeo(real: Real, tmp_path: Path) -> None:
    _, amd = _multi_platform(real, "library/demo", "1.0")
    assert SKOPEO is not None
    layout, archive = tmp_path / "layout", tmp_path / "demo.tar"
    source = f"docker://{real.host}/library/demo:1.0"
    common = ["--src-tls-verify=false", "--override-os", "linux", "--override-arch", "amd64"]
    for target in (f"oci:{layout}:1.0", f"docker-archive:{archive}:docker.io/library/demo:1.0"):
        done = subprocess.run([SKOPEO, "copy", *common, source, target], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    from_layout = Layout(layout, AMD64).config(parse("demo:1.0"))
    from_archive = DockerArchive(archive, AMD64).config(parse("demo:1.0"))
    for found in (from_layout, from_archive):
        assert (found.user, dict(found.env)) == ("1000:1000", {"A": "1"})
    assert from_layout.digest is not None  # skopeo may rewrite the manifest; the config is what it carried
    assert amd.startswith("sha256:")
