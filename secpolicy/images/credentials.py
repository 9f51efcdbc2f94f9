"""Registry credentials, where the user's Docker client keeps them (``$DOCKER_CONFIG/config.json``).

``auths.<host>.auth`` (base64 ``user:password``) or ``identitytoken``;
``credHelpers.<host>`` or ``credsStore`` name a ``docker-credential-<name>``
program, run as the Docker CLI runs it (``get``, the server on stdin).
Only the user's own configuration is read: nothing in a linted repository
can name a helper.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_HELPER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
MAX_CONFIG = 1024 * 1024
HELPER_TIMEOUT = 10.0


@dataclass(frozen=True)
class Credential:
    username: str
    secret: str  # a password, or an identity token when username is "<token>"

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Credential(username={self.username!r}, secret=***)"


def docker_config_path() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"


class Credentials:
    """Credentials per registry host, read lazily from the Docker client configuration."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else docker_config_path()
        self._doc: dict[str, object] | None = None

    def _config(self) -> dict[str, object]:
        if self._doc is None:
            self._doc = {}
            try:
                if self.path.stat().st_size <= MAX_CONFIG:
                    doc = json.loads(self.path.read_bytes())
                    if isinstance(doc, dict):
                        self._doc = doc
            except (OSError, ValueError):
                pass
        return self._doc

    def get(self, domain: str) -> Credential | None:
        keys = _HUB_KEYS if domain == "docker.io" else (domain, f"https://{domain}", f"http://{domain}")
        doc = self._config()
        helpers = doc.get("credHelpers")
        helper = next((helpers[k] for k in keys if isinstance(helpers, dict) and isinstance(helpers.get(k), str)), None)
        if helper is None and isinstance(doc.get("credsStore"), str):
            helper = doc["credsStore"]
        if isinstance(helper, str):
            found = _from_helper(helper, keys[0])
            if found is not None:
                return found
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return None
        for key in keys:
            entry = auths.get(key)
            if isinstance(entry, dict):
                found = _from_entry(entry)
                if found is not None:
                    return found
        return None


def _from_entry(entry: dict[str, object]) -> Credential | None:
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credential("<token>", token)
    auth = entry.get("auth")
    if not isinstance(auth, str) or not auth:
        return None
    try:
        user, colon, password = base64.b64decode(auth, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return Credential(user, password) if colon else None


def _from_helper(name: str, server: str) -> Credential | None:
    if not _HELPER_NAME.fullmatch(name):
        return None
    program = shutil.which(f"docker-credential-{name}")
    if program is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a program on PATH named by the user's Docker config
            [program, "get"], input=server.encode(), capture_output=True, timeout=HELPER_TIMEOUT, check=False
        )
        doc = json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    user, secret = doc.get("Username"), doc.get("Secret")
    if not isinstance(user, str) or not isinstance(secret, str) or not secret:
        return None
    return Credential(user, secret)
