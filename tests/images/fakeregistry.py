"""A small registry in a thread, speaking just enough of the distribution API for the client's tests.

It serves what a test puts in ``manifests`` and ``blobs``, can demand a
bearer token (with its own token endpoint), can redirect blob requests to a
second server standing in for a CDN, and records every request it saw.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


@dataclass
class Registry:
    manifests: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # "name/ref" -> (type, body)
    blobs: dict[str, bytes] = field(default_factory=dict)
    token: str | None = None  # demand "Bearer <token>" when set
    redirect_blobs_to: str | None = None  # base URL of another server
    send_digest: str | None = None  # a Docker-Content-Digest to send instead of the true one
    fail_with: int | None = None  # answer every registry request with this status (403, 429, ...)
    delay: float = 0.0  # seconds before each answer (a distant registry)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def add_image(self, name: str, tag: str, config: dict[str, Any], *, platforms: bool = True) -> str:
        """An image behind an index (amd64, arm64 and an attestation entry); returns the config digest."""
        blob = json.dumps(config).encode()
        self.blobs[digest_of(blob)] = blob
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest_of(blob), "size": len(blob)},
                "layers": [],
            }
        ).encode()
        self.manifests[f"{name}/{digest_of(manifest)}"] = (OCI_MANIFEST, manifest)
        if not platforms:
            self.manifests[f"{name}/{tag}"] = (OCI_MANIFEST, manifest)
            return digest_of(blob)
        other = json.dumps({"config": {"User": "arm"}}).encode()
        self.blobs[digest_of(other)] = other
        arm = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest_of(other), "size": len(other)},
                "layers": [],
            }
        ).encode()
        self.manifests[f"{name}/{digest_of(arm)}"] = (OCI_MANIFEST, arm)
        index = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_INDEX,
                "manifests": [
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": "sha256:" + "0" * 64,
                        "size": 1,
                        "platform": {"os": "unknown", "architecture": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
                    },
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": digest_of(arm),
                        "size": len(arm),
                        "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"},
                    },
                    {
                        "mediaType": OCI_MANIFEST,
                        "digest": digest_of(manifest),
                        "size": len(manifest),
                        "platform": {"os": "linux", "architecture": "amd64"},
                    },
                ],
            }
        ).encode()
        self.manifests[f"{name}/{tag}"] = (OCI_INDEX, index)
        self.manifests[f"{name}/{digest_of(index)}"] = (OCI_INDEX, index)
        return digest_of(blob)


def _handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if registry.delay:
                time.sleep(registry.delay)
            self._answer()

        def _answer(self) -> None:
            registry.seen.append(Seen(self.path, dict(self.headers.items())))
            if self.path.startswith("/token"):
                return self._send(200, "application/json", json.dumps({"token": registry.token}).encode())
            if registry.fail_with is not None:
                return self._send(registry.fail_with, "application/json", b'{"errors": []}')
            if registry.token is not None and self.headers.get("Authorization") != f"Bearer {registry.token}":
                realm = f"http://{registry.host}/token"
                challenge = f'Bearer realm="{realm}",service="test-registry",scope="repository:x:pull"'
                return self._send(401, "application/json", b"{}", {"WWW-Authenticate": challenge})
            parts = self.path.split("/")
            if len(parts) >= 5 and parts[1] == "v2" and parts[-2] == "manifests":
                found = registry.manifests.get("/".join(parts[2:-2]) + "/" + parts[-1])
                if found is None:
                    return self._send(404, "application/json", b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                kind, body = found
                digest = registry.send_digest or digest_of(body)
                return self._send(200, kind, body, {"Docker-Content-Digest": digest})
            if len(parts) >= 5 and parts[1] == "v2" and parts[-2] == "blobs":
                if registry.redirect_blobs_to is not None:
                    return self._send(307, "text/plain", b"", {"Location": registry.redirect_blobs_to + self.path})
                blob = registry.blobs.get(parts[-1])
                if blob is None:
                    return self._send(404, "application/json", b"{}")
                return self._send(200, "application/octet-stream", blob)
            return self._send(404, "text/plain", b"")

        def _send(self, code: int, kind: str, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serving(registry: Registry) -> Iterator[Registry]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(registry))
    registry.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        server.shutdown()
        server.server_close()
