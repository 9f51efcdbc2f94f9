"""The one catalog of what looks like a secret: variable names, file names, tokens.

Shared by the ENV/ARG rule, the COPY rule and the build-context rules so that
all of them agree on what a secret is.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# BuildKit's SecretsUsedInArgOrEnv token-boundary pattern, plus "psw" and
# "private_key"-style names (moby/buildkit dockerfile2llb/validations.go).
_SECRET_NAME = re.compile(
    r"(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token|psw|pat|privatekey)(?:_|$)",
    re.IGNORECASE,
)
# Parts that make a secret-looking name a reference, not a secret.
_NOT_SECRET_PART = re.compile(
    r"(?:_|^)(?:public|pub|file|path|dir|url|uri|endpoint|version|name|id|type|size|length|"
    r"ttl|timeout|expiry|header|method|host|port|region|server|format|mode|enabled)(?:_|$)",
    re.IGNORECASE,
)
# Well-known public values that share secret-like names (GPG key ids of
# official images: python, node, ...).
_NOT_SECRET_NAMES = frozenset({"GPG_KEY", "GPG_KEYS", "KEYS", "NODE_KEYS"})


def is_secret_name(name: str) -> bool:
    """True for ``DB_PASSWORD``, ``GITHUB_TOKEN``, ``api-key``; not for ``TOKEN_FILE``."""
    normalized = name.replace("-", "_").replace(".", "_")
    if normalized.upper() in _NOT_SECRET_NAMES:
        return False
    return bool(_SECRET_NAME.search(normalized)) and not _NOT_SECRET_PART.search(normalized)


@dataclass(frozen=True)
class TokenPattern:
    name: str
    regex: re.Pattern[str]


# Formats documented by their issuers; each is specific enough to flag on its
# own, whatever the variable is called.
TOKEN_PATTERNS: tuple[TokenPattern, ...] = (
    TokenPattern("AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    TokenPattern("GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    TokenPattern("GitHub fine-grained token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{22,}\b")),
    TokenPattern("GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    TokenPattern("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    TokenPattern("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    TokenPattern("Stripe secret key", re.compile(r"\b[rs]k_live_[0-9A-Za-z]{20,}\b")),
    TokenPattern("npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    TokenPattern("PyPI token", re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}")),
    TokenPattern("private key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----")),
)
PASSWORD_IN_URL = "password in URL"
# scheme://user:password@host, found from each "://" so that nothing backtracks:
# the scheme is read backwards, the rest is one anchored match that stops at "/"
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO = re.compile(r"[^/\s:@$]+:[^/\s@$]+@[^\s/]+")


def _password_in_url(value: str) -> bool:
    start = value.find("://")
    while start >= 0:
        i = start
        while i > 0 and value[i - 1] in _SCHEME_CHARS:
            i -= 1
        # the scheme starts with a letter, at a word boundary
        while i < start and not value[i].isalpha():
            i += 1
        at_boundary = i < start and (i == 0 or not (value[i - 1].isalnum() or value[i - 1] == "_"))
        if at_boundary and _USERINFO.match(value, start + 3):
            return True
        start = value.find("://", start + 3)
    return False


_URL_TOKEN = TokenPattern(PASSWORD_IN_URL, re.compile(r"(?!)"))


def find_token(value: str) -> TokenPattern | None:
    for pattern in TOKEN_PATTERNS:
        if pattern.regex.search(value):
            return pattern
    if "://" in value and _password_in_url(value):
        return _URL_TOKEN
    return None


# File names (basename, exact) that hold credentials.
SECRET_FILE_NAMES = frozenset(
    {
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        "id_ecdsa_sk",
        "id_ed25519_sk",
        ".env",
        ".npmrc",
        ".pypirc",
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".pgpass",
        ".my.cnf",
        ".htpasswd",
        "credentials.json",
        "credential.json",
        "client_secret.json",
        "service-account.json",
        "serviceaccount.json",
        "secrets.json",
        "secrets.yaml",
        "secrets.yml",
        "secret_token.rb",
        "master.key",
        "credentials.xml",
        "kubeconfig",
        "terraform.tfvars",
        ".vault-token",
        ".dockercfg",
        "htpasswd",
    }
)
# Extensions of key stores and private keys (certificates such as .pem/.crt
# are mostly public and are left out on purpose).
SECRET_FILE_EXTENSIONS = frozenset(
    {".key", ".p12", ".pfx", ".pkcs12", ".jks", ".keystore", ".ppk", ".ovpn", ".kdbx", ".tfstate", ".asc", ".gpg"}
)
# Directories whose files are credentials (relative path segments).
SECRET_DIRS = frozenset({".ssh", ".aws", ".gnupg", ".docker", ".kube", ".azure", ".gcloud"})
# Paths below a home directory that are credentials.
SECRET_PATH_SUFFIXES = (".aws/credentials", ".docker/config.json", ".kube/config", ".config/gcloud/credentials.db")
_ENV_VARIANT = re.compile(r"^\.env(?:\.[A-Za-z0-9_-]+)*$")
_ENV_TEMPLATES = frozenset({"example", "sample", "template", "dist", "defaults", "schema"})


def secret_file_reason(path: str) -> str | None:
    """Why ``path`` (a relative, /-separated path) looks like a secret, or None."""
    clean = posixpath.normpath(path.strip())
    while clean.startswith(("./", "/")):
        clean = clean[1:] if clean.startswith("/") else clean[2:]
    if clean in ("", "."):
        return None
    parts = clean.split("/")
    base = parts[-1]
    lower = base.lower()
    if lower in SECRET_FILE_NAMES:
        return f"{base} is a credentials file"
    if _ENV_VARIANT.match(base) and not set(lower.split(".")[2:]) & _ENV_TEMPLATES:
        return f"{base} is an environment file (usually holds secrets)"
    for suffix in SECRET_PATH_SUFFIXES:
        if clean == suffix or clean.endswith("/" + suffix):
            return f"{suffix} holds credentials"
    ext = posixpath.splitext(lower)[1]
    if ext in SECRET_FILE_EXTENSIONS:
        return f"{ext} files hold private keys or key stores"
    for part in parts:
        if part in SECRET_DIRS:
            return f"{part}/ holds credentials"
    return None
