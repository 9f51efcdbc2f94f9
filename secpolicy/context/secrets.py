"""Which files of a build context are secrets: by name (the catalog DF302 uses) and by a cheap content sniff.

The name catalog is ``secpolicy.secrets.secret_file_reason``.  Content is
read only for small text files, at most the first 8 KB, and only where a
name alone is not enough (``*.pem``: a certificate or a key; ``.npmrc``: a
registry setting or a token) or where the name says nothing (a
``service-account`` JSON under any name).  A file with a NUL byte in its
first 8 KB is binary and is not sniffed.  Reasons name the pattern or the
marker, never the secret.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass

from secpolicy import secrets

SNIFF_BYTES = 8 * 1024

# names that are secrets only when their content says so
_CONTENT_DECIDES = {
    ".npmrc": re.compile(r"(?m)^[^#;\n]*(?:_authToken|_auth|_password)\s*="),
    ".pypirc": re.compile(r"(?m)^\s*password\s*[=:]"),
    ".yarnrc.yml": re.compile(r"(?m)^\s*npmAuth(?:Token|Ident)\s*:"),
}
_MORE_NAMES = {
    ".s3cfg": "s3cmd keys",
    ".dockercfg": "registry credentials",
    "application_default_credentials.json": "gcloud application default credentials",
    ".vault-token": "a Vault token",
}
_MORE_EXTENSIONS = {
    ".tfstate.backup": "Terraform state holds resource secrets in plain text",
    ".kubeconfig": "a kubeconfig holds cluster credentials",
    ".keychain": "a password store",
    ".agilekeychain": "a password store",
    ".psafe3": "a password store",
    ".kwallet": "a password store",
    ".kdb": "a password store",
    ".tblk": "a VPN configuration with keys",
}
_MORE_SUFFIXES = (".gem/credentials", ".cargo/credentials", ".cargo/credentials.toml", ".config/gh/hosts.yml")
_PEM_KEY = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-[23]:")
# markers of a credential file whatever its name
_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "a GCP service-account key",
        re.compile(
            r'"type"\s*:\s*"service_account"[\s\S]*"private_key"|"private_key"[\s\S]*"type"\s*:\s*"service_account"'
        ),
    ),
    (
        "registry credentials (docker config auths)",
        re.compile(r'"auths"\s*:\s*\{[\s\S]*"auth"\s*:\s*"[A-Za-z0-9+/=]{8,}"'),
    ),
    (
        "cluster credentials (a kubeconfig with a token, key or password)",
        re.compile(r"(?m)^kind:\s*Config\b[\s\S]*^\s*(?:token|client-key-data|password):\s*\S", re.MULTILINE),
    ),
    ("a private key (PEM header)", _PEM_KEY),
)


@dataclass(frozen=True)
class SecretFile:
    path: str
    reason: str  # which name pattern or content marker, never the secret
    by_content: bool


def _name_reason(path: str) -> str | None:
    base = posixpath.basename(path)
    lower = base.lower()
    if lower in _CONTENT_DECIDES:
        return None  # decided by its content
    reason = secrets.secret_file_reason(path)
    if reason is not None:
        return reason
    if lower in _MORE_NAMES:
        return f"{base}: {_MORE_NAMES[lower]}"
    for ext, why in _MORE_EXTENSIONS.items():
        if lower.endswith(ext):
            return f"{ext} files: {why}"
    for suffix in _MORE_SUFFIXES:
        if path == suffix or path.endswith("/" + suffix):
            return f"{suffix} holds credentials"
    return None


def _text(head: bytes) -> str | None:
    if b"\0" in head:
        return None  # binary: not sniffed
    return head.decode("utf-8", "replace")


# files whose content is worth a look: key and config formats, dotfiles, extension-less files
_SNIFFED = (".pem", ".key", ".crt", ".json", ".yaml", ".yml", ".conf", ".cfg", ".ini", ".txt", ".toml", ".properties")


def sniffed(path: str) -> bool:
    base = posixpath.basename(path).lower()
    return base.startswith(".") or "." not in base or base.endswith(_SNIFFED)


def classify(path: str, read_head: Callable[[], bytes | None]) -> SecretFile | None:
    """Is the context file ``path`` a secret?  ``read_head`` reads its first ``SNIFF_BYTES`` (None: unreadable)."""
    reason = _name_reason(path)
    if reason is not None:
        return SecretFile(path, reason, False)
    if not sniffed(path):
        return None
    base = posixpath.basename(path).lower()
    head = read_head()
    text = _text(head) if head else None
    if text is None:
        return None
    rule = _CONTENT_DECIDES.get(base)
    if rule is not None:
        return (
            SecretFile(path, f"{base} holds a registry credential (its content sets one)", True)
            if rule.search(text)
            else None
        )
    for what, marker in _MARKERS:
        if marker.search(text):
            return SecretFile(path, f"its content is {what}", True)
    for token in secrets.TOKEN_PATTERNS:  # the issuers' formats; a password in a URL is too common in docs
        if token.regex.search(text):
            return SecretFile(path, f"its content holds a {token.name}", True)
    return None
