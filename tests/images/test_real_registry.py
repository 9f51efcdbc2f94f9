"""The registry client against the real distribution registry (Debian's docker-registry), on loopback.

CI installs it (dev.sh test, as root); elsewhere the test is skipped and says why.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeregistry import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, digest_of

from secpolicy.images.config import ImageError
from secpolicy.images.credentials import Credentials
from secpolicy.images.registry import Platform, RegistryClient
from secpolicy.reference import parse

BINARY = shutil.which("docker-registry")
pytestmark = pytest.mark.skipif(
    BINARY is None,
    reason="docker-registry is not installed (apt-get install docker-registry; dev.sh test does as root)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    config = tmp_path / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'data'}}}, delete: {{enabled: true}}}}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    assert BINARY is not None
    process = subprocess.Popen([BINARY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    host = f"127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"http://{host}/v2/", timeout=1):
                    break
            except (urllib.error.URLError, OSError):
                time.sleep(0.025)
        else:
            pytest.fail("docker-registry did not start")
        yield host
    finally:
        process.terminate()
        process.wait(timeout=10)


def _push_blob(host: str, name: str, data: bytes) -> str:
    start = urllib.request.Request(f"http://{host}/v2/{name}/blobs/uploads/", method="POST")
    with urllib.request.urlopen(start) as response:
        location = response.headers["Location"]
    if location.startswith("/"):
        location = f"http://{host}{location}"
    digest = digest_of(data)
    put = urllib.request.Request(
        f"{location}{'&' if '?' in location else '?'}digest={digest}",
        data=data,
        method="PUT",
        headers={"Content-Type": "application/octet-stream"},
    )
    with urllib.request.urlopen(put):
        return digest


def _push_manifest(host: str, name: str, ref: str, kind: str, body: bytes) -> None:
    put = urllib.request.Request(
        f"http://{host}/v2/{name}/manifests/{ref}", data=body, method="PUT", headers={"Content-Type": kind}
    )
    with urllib.request.urlopen(put):
        pass


def test_pushed_image_is_read_back(registry: str, tmp_path: Path) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000:1000", "Env": ["A=1"]}})
    config_digest = _push_blob(registry, "library/demo", config.encode())
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [],
        }
    ).encode()
    _push_manifest(registry, "library/demo", "1.0", OCI_MANIFEST, manifest)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": digest_of(manifest),
                    "size": len(manifest),
                    "platform": {"os": "linux", "architecture": "amd64"},
                }
            ],
        }
    ).encode()
    _push_manifest(registry, "library/demo", "latest", OCI_INDEX, index)
    client = RegistryClient(credentials=Credentials(tmp_path / "none.json"))
    for ref in (
        f"{registry}/library/demo:1.0",
        f"{registry}/library/demo",
        f"{registry}/library/demo@{digest_of(index)}",
    ):
        found = client.config(parse(ref))
        assert (found.user, dict(found.env), found.digest) == ("1000:1000", {"A": "1"}, config_digest), ref
    with pytest.raises(ImageError, match="not found"):
        client.config(parse(f"{registry}/library/demo:2.0"))
    with pytest.raises(ImageError, match="no linux/arm64 image"):
        RegistryClient(credentials=Credentials(tmp_path / "none.json"), platform=Platform.parse("linux/arm64")).config(
            parse(f"{registry}/library/demo")
        )
