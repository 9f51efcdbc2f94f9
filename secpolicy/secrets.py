"""The one catalog of what looks like a secret: variable names, file names, tokens.

Shared by the ENV/ARG rule, the COPY rule and the build-context rules so that
all of them agree on what a secret is.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

# Words that make a variable name secret-like.  BuildKit's SecretsUsedInArgOrEnv
# (dockerfile2llb/validations.go: apikey, auth, credential(s), key, password,
# pword, passwd, secret, token) plus the short forms of client tools
# (MYSQL_PWD, *_PASS, *_CREDS, Trivy's psw) and GitHub's pat.  Names are split
# into words at "_", "-", "." and camelCase boundaries ("dbPassword").
_STRONG_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pword",
        "pwd",
        "pass",
        "passphrase",
        "secret",
        "token",
        "credential",
        "credentials",
        "creds",
        "cred",
        "apikey",
        "privatekey",
        "psw",
        "pat",
    }
)
# words that name a secret only sometimes (a config key, an auth method): a
# value that is plainly an identifier ("ProcessId", "basic") is not a secret
_WEAK_WORDS = frozenset({"key", "auth"})
# a single word ending so is a secret name too: PGPASSWORD, GITHUBTOKEN, CLIENTSECRET
_STRONG_SUFFIXES = ("password", "passwd", "pass", "pwd", "secret", "token", "apikey", "privatekey", "credentials")
# English words with those endings ("bypass"), and the shell's OLDPWD
_NOT_SUFFIXED = frozenset(
    {"bypass", "compass", "encompass", "overpass", "underpass", "surpass", "trespass", "impass", "oldpwd"}
)
# words that, after the secret word, make the name point at a secret or say
# where it is used (TOKEN_FILE, PASSWORD_PATH, KEY_ID, TOKEN_URL); before it
# they only say whose secret it is (REDIS_HOST_PASSWORD, DB_USER_PASSWORD)
_QUALIFIER_WORDS = frozenset(
    {
        "file",
        "files",
        "path",
        "dir",
        "url",
        "uri",
        "endpoint",
        "name",
        "id",
        "ids",
        "header",
        "method",
        "host",
        "port",
        "region",
        "server",
        "location",
        "source",
        "user",
        "username",
        "login",
        "prefix",
        "suffix",
        "hash",
        "env",
        "var",
        "command",
        "cmd",
        "script",
        "helper",
    }
)
# words that make the whole name a setting about secrets, wherever they stand
# (ALLOW_EMPTY_PASSWORD, MIN_PASSWORD_LENGTH, PUBLIC_KEY, DOCKER_AUTH_VERSION)
_SETTING_WORDS = frozenset(
    {
        "public",
        "pub",
        "version",
        "type",
        "size",
        "length",
        "ttl",
        "timeout",
        "expiry",
        "expires",
        "format",
        "mode",
        "enabled",
        "enable",
        "disable",
        "disabled",
        "allow",
        "empty",
        "fingerprint",
        "keyid",
        "keyserver",
        "keyring",
        "algorithm",
        "alg",
        "policy",
        "required",
        "count",
        "min",
        "max",
        "level",
        "rotation",
    }
)
# two words that together are a strong one: API_KEY, PRIVATE_KEY, ACCESS_KEY, SECRET_KEY
_STRONG_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("access", "key"),
        ("secret", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("license", "key"),
    }
)
# names that are something else entirely: the shell's working directories
_NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def name_words(name: str) -> list[str]:
    """``DB_PASSWORD`` -> db, password; ``dbPassword`` -> db, password; ``Foo__Key`` -> foo, key."""
    return [w.lower() for part in re.split(r"[_.\-]+", name) for w in _WORD.findall(part)]


def _is_secret_word(word: str) -> bool:
    return (
        word in _STRONG_WORDS or word in _WEAK_WORDS or (word.endswith(_STRONG_SUFFIXES) and word not in _NOT_SUFFIXED)
    )


def _secret_words(name: str) -> set[str]:
    """The secret words of ``name`` ("apikey" for API_KEY), or none when it is a pointer or a setting."""
    if name.upper() in _NOT_SECRET_NAMES:
        return set()
    words = name_words(name)
    if any(w in _SETTING_WORDS for w in words):
        return set()
    positions = [i for i, w in enumerate(words) if _is_secret_word(w)]
    if not positions or any(w in _QUALIFIER_WORDS for w in words[positions[-1] + 1 :]):
        return set()
    found = {words[i] if words[i] in _STRONG_WORDS or words[i] in _WEAK_WORDS else "password" for i in positions}
    found |= {"apikey" for i in positions if i > 0 and (words[i - 1], words[i]) in _STRONG_PAIRS}
    return found


def is_secret_name(name: str) -> bool:
    """True for ``DB_PASSWORD``, ``PGPASSWORD``, ``dbPassword``, ``api-key``; not for ``TOKEN_FILE``."""
    return bool(_secret_words(name))


# Values that say nothing secret whatever the name: placeholders, switches
_PLACEHOLDERS = frozenset(
    {
        "changeme",
        "change_me",
        "change-me",
        "changeit",
        "replaceme",
        "replace_me",
        "replace-me",
        "placeholder",
        "todo",
        "tbd",
        "none",
        "null",
        "nil",
        "undefined",
        "unset",
        "example",
        "sample",
        "dummy",
        "fake",
        "redacted",
        "true",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "0",
        "1",
        "enabled",
        "disabled",
    }
)
_PLACEHOLDER_SHAPES = re.compile(
    r"<[^<>]*>|\{\{.*\}\}|%[^%]*%|\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|([0-9A-Za-z*])(?:\1|[-_.: ])*|your[-_ ]?.*|.*[-_]here",
    re.IGNORECASE | re.DOTALL,
)
# absolute, home or drive paths, and relative ones that end in a file name with a
# lower-case extension (certs/server.key); a base64 secret may hold "/" too, so
# slashes alone do not make a path
_PATH = re.compile(
    r"(?:/|\./|\.\./|~/|[A-Za-z]:\\)\S*|[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/[A-Za-z0-9_-]+\.[a-z0-9]{1,5}"
)
# OpenPGP key ids and fingerprints (8, 16, 40 or 64 hex digits), as lists
_FINGERPRINTS = re.compile(
    r"(?:0x)?(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})(?:[ ,]+(?:0x)?(?:[0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64}))*"
)
_PGP_WORDS = frozenset({"gpg", "pgp", "gnupg", "signing", "keys"})
# an identifier: one word or CamelCase words, or words joined by - _ . (no digits)
_IDENTIFIER = re.compile(r"[A-Za-z][a-z]*(?:[A-Z][a-z]+)*|[a-z]+(?:[-_.][a-z]+)*")


def not_secret_value_reason(name: str, value: str) -> str | None:
    """Why ``value`` of the secret-like ``name`` is plainly not a secret, or None."""
    text = value.strip().strip("\"'").strip()
    if not text:
        return "empty"
    if text.lower() in _PLACEHOLDERS or _PLACEHOLDER_SHAPES.fullmatch(text):
        return "a placeholder"
    if _PATH.fullmatch(text):
        return "a file path"
    words = set(name_words(name))
    if words & _PGP_WORDS and _FINGERPRINTS.fullmatch(text):
        return "an OpenPGP key id or fingerprint (public)"
    weak_only = _secret_words(name) - _WEAK_WORDS == set()
    if weak_only and len(text) <= 40 and _identifier(text, auth_only="key" not in _secret_words(name)):
        return "an identifier, not a key"
    return None


def _identifier(text: str, *, auth_only: bool) -> bool:
    """A configuration word: CamelCase words (ProcessId) or words joined by - _ . ; a single word only for auth."""
    if not _IDENTIFIER.fullmatch(text):
        return False
    humps = len(re.findall(r"[A-Z][a-z]+", text))
    joined = bool(re.search(r"[-_.]", text))
    return auth_only or humps >= 2 or joined


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
PASSWORD_IN_URL = "password in URL"  # noqa: S105 - the name of a finding, not a password
# scheme://user:password@host, found from each "://" so that nothing backtracks:
# the scheme is read backwards, the rest is one anchored match that stops at "/"
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO = re.compile(r"[^/\s:@$]+:[^/\s@$]+@[^\s/]+")


def _password_in_url(value: str) -> int | None:
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
            return i
        start = value.find("://", start + 3)
    return None


_URL_TOKEN = TokenPattern(PASSWORD_IN_URL, re.compile(r"(?!)"))


def find_token(value: str) -> TokenPattern | None:
    found = find_token_at(value)
    return found[0] if found else None


def find_token_at(value: str) -> tuple[TokenPattern, int] | None:
    """The first known token format in ``value`` and where it starts."""
    best: tuple[TokenPattern, int] | None = None
    for pattern in TOKEN_PATTERNS:
        match = pattern.regex.search(value)
        if match and (best is None or match.start() < best[1]):
            best = (pattern, match.start())
    if best is None and "://" in value:  # a known format says more than "password in URL"
        at = _password_in_url(value)
        if at is not None:
            best = (_URL_TOKEN, at)
    return best


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
# Directories of private keys, wherever they are (Debian's and Red Hat's TLS key stores)
SECRET_DIR_PATHS = ("etc/ssl/private", "etc/pki/tls/private")
# Files in credential directories that are public: SSH's public keys and host lists, GnuPG's public keyrings
PUBLIC_FILE_NAMES = frozenset(
    {
        "authorized_keys",
        "authorized_keys2",
        "known_hosts",
        "known_hosts2",
        "config",
        "pubring.kbx",
        "pubring.gpg",
        "trustdb.gpg",
    }
)
# OpenSSH host private keys (/etc/ssh/ssh_host_ed25519_key; the .pub files are public)
_SSH_HOST_KEY = re.compile(r"ssh_host_[a-z0-9]+_key")
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
    if lower in SECRET_FILE_NAMES or lower == "privkey.pem":
        return f"{base} is a credentials file"
    if _SSH_HOST_KEY.fullmatch(lower):
        return f"{base} is an SSH host private key"
    if _ENV_VARIANT.match(base) and not set(lower.split(".")[2:]) & _ENV_TEMPLATES:
        return f"{base} is an environment file (usually holds secrets)"
    for suffix in SECRET_PATH_SUFFIXES:
        if clean == suffix or clean.endswith("/" + suffix):
            return f"{suffix} holds credentials"
    ext = posixpath.splitext(lower)[1]
    if ext in SECRET_FILE_EXTENSIONS:
        return f"{ext} files hold private keys or key stores"
    if lower.endswith(".pub") or lower in PUBLIC_FILE_NAMES:
        return None
    for prefix in SECRET_DIR_PATHS:
        if clean.startswith(prefix + "/"):
            return f"/{prefix}/ holds private keys"
    for part in parts[:-1]:
        if part in SECRET_DIRS:
            return f"{part}/ holds credentials"
    return None
