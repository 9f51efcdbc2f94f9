"""An image's config from the local Docker or Podman daemon: ``GET /images/{name}/json`` on its unix socket.

The socket is ``DOCKER_HOST`` when it is a ``unix://`` address, else the
first of Docker's and Podman's usual sockets that exists.  Only images the
daemon already has are answered: nothing is pulled.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import urllib.parse
from pathlib import Path

from secpolicy.images.config import ImageConfig, ImageError, parse_env
from secpolicy.reference import ImageRef

MAX_ANSWER = 16 * 1024 * 1024  # an inspect answer carries the layer list and history
TIMEOUT = 10.0


def sockets() -> list[Path]:
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        return [Path(host.removeprefix("unix://"))]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    found = [Path("/var/run/docker.sock"), Path("/run/podman/podman.sock")]
    if runtime:
        found += [Path(runtime) / "docker.sock", Path(runtime) / "podman" / "podman.sock"]
    return found


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(str(self.path))
        self.sock = sock


class Daemon:
    def __init__(self, socket_path: Path | None = None, timeout: float = TIMEOUT) -> None:
        self.socket_path = socket_path
        self.timeout = timeout
        self.where = "daemon"

    def _socket(self) -> Path:
        if self.socket_path is not None:
            return self.socket_path
        for candidate in sockets():
            if candidate.exists():
                return candidate
        raise ImageError("daemon: no Docker or Podman socket found (set DOCKER_HOST=unix://...)")

    def config(self, ref: ImageRef) -> ImageConfig:
        path = self._socket()
        name = str(ref) if ref.tag or ref.digest else f"{ref}:latest"
        connection = _UnixConnection(path, self.timeout)
        try:
            connection.request("GET", f"/images/{urllib.parse.quote(name, safe='')}/json")
            response = connection.getresponse()
            body = response.read(MAX_ANSWER + 1)
        except OSError as exc:
            raise ImageError(f"daemon at {path}: {exc.strerror or exc}") from None
        finally:
            connection.close()
        if response.status == 404:
            raise ImageError(f"daemon at {path}: no such image {name} (secpolicy does not pull)")
        if response.status != 200:
            raise ImageError(f"daemon at {path}: HTTP {response.status} for {name}")
        if len(body) > MAX_ANSWER:
            raise ImageError(f"daemon at {path}: the answer for {name} is larger than {MAX_ANSWER} bytes")
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise ImageError(f"daemon at {path}: the answer is not JSON") from None
        config = doc.get("Config") if isinstance(doc, dict) else None
        if config is None:
            config = {}
        if not isinstance(config, dict):
            raise ImageError(f"daemon at {path}: the image's Config is not an object")
        user = config.get("User")
        user = "" if user is None else user
        if not isinstance(user, str):
            raise ImageError(f"daemon at {path}: the image's User is not a string")
        image_id = doc.get("Id") if isinstance(doc.get("Id"), str) else None
        return ImageConfig(user, parse_env(config.get("Env")), image_id, f"daemon {path}")
