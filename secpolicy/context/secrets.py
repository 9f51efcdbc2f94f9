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
    # a value that is a ${VARIABLE} reference (npm's recommended form) is no secret
    ".npmrc": re.compile(r"(?m)^[^#;\n]*(?:_authToken|_auth|_password)\s*=\s*(?![\"']?\$\{)\S"),
    ".pypirc": re.compile(r"(?m)^\s*password\s*[=:]\s*(?![\"']?\$\{)\S"),
    ".yarnrc.yml": re.compile(r"(?m)^\s*npmAuth(?:Token|Ident)\s*:\s*(?![\"']?\$\{)\S"),
}
_MORE_NAMES = {
    ".s3cfg": "s3cmd keys",
    ".dockercfg": "registry credentials",
    "application_default_credentials.json": "gcloud application default credentials",
    ".vault-token": "a Vault token",
    "credentials": "a credentials file",
    "credential": "a credentials file",
    "password.txt": "a password file",
    "database.yml": "database credentials (Rails)",
    ".bash_history": "shell history (inline secrets)",
    ".zsh_history": "shell history (inline secrets)",
    ".mysql_history": "client history (inline secrets)",
    ".psql_history": "client history (inline secrets)",
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
    ".auto.tfvars": "Terraform variable values, often secrets",
    ".secret": "named a secret",
    ".private_key": "named a private key",
    ".keypair": "a key pair",
    ".keyring": "a keyring",
}
_MORE_SUFFIXES = (
    ".gem/credentials",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".config/gh/hosts.yml",
    ".m2/settings.xml",
)
_MORE_DIRS = frozenset({".gcp"})
# extensions that hold public keys as often as private ones: the content decides when it can
_KEY_EXTENSIONS = (".asc", ".gpg", ".key", ".pem")
_PUBLIC = re.compile(r"-----BEGIN (?:PGP PUBLIC KEY BLOCK|PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----")
_PEM_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|PuTTY-User-Key-File-[23]:|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
)
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
    if any(part in _MORE_DIRS for part in path.split("/")[:-1]):
        return "a cloud CLI's credentials directory"
    return None


def _public_key(path: str, head: bytes | None) -> bool:
    """A key file whose content shows a public key (PGP/PEM armour, or a binary OpenPGP public-key packet)."""
    if not path.lower().endswith(_KEY_EXTENSIONS) or not head:
        return False
    if b"\0" in head or head[:1] in (b"\x98", b"\x99", b"\xc6"):
        return head[:1] in (b"\x98", b"\x99", b"\xc6")  # old- and new-format public-key packet tags
    text = head.decode("utf-8", "replace")
    return _PUBLIC.search(text) is not None and _PEM_KEY.search(text) is None


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
        if path.lower().endswith(_KEY_EXTENSIONS) and _public_key(path, read_head()):
            return None  # docker.asc, a keyring of public keys: published on purpose
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
        found = token.regex.search(text)
        if found is not None and not found.group().endswith("EXAMPLE"):  # AWS's documented example keys
            return SecretFile(path, f"its content holds a {token.name}", True)
    return None
