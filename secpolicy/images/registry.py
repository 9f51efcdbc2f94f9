"""An image's config from its registry: the OCI distribution API, with the standard library only.

``GET /v2/<name>/manifests/<ref>`` accepting the OCI and Docker manifest and
index types; an index is resolved to one platform (attestation entries
skipped), the manifest names the config blob, ``GET /v2/<name>/blobs/<digest>``
returns it.  Every answer is hostile until checked:

* every body is capped in size and its sha256 must equal the digest it was
  asked by or the descriptor that named it (a tag's manifest is pinned by the
  registry's ``Docker-Content-Digest`` when it sends one);
* HTTPS always, except plain HTTP for a loopback registry (``localhost``,
  127.0.0.0/8, ``::1``, as Docker allows) or one listed as insecure;
* the anonymous (or credentialed) bearer-token flow follows the
  ``WWW-Authenticate`` challenge; ``Authorization`` is never sent on to
  another host when a blob redirects to a CDN, and a redirect from HTTPS to
  plain HTTP is refused;
* every request has a timeout.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from secpolicy.images.cache import ImageCache
from secpolicy.images.config import PLATFORM, ImageConfig, ImageError, check_digest, json_object, parse_config, verify
from secpolicy.images.credentials import Credential, Credentials
from secpolicy.images.platform import Platform
from secpolicy.reference import ImageRef

if TYPE_CHECKING:  # urllib.request pulls in http.client, email and ssl: only a run that asks a registry pays for them
    import urllib.error
    import urllib.request
    from email.message import Message

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEXES = (OCI_INDEX, DOCKER_LIST)
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
CONFIG_TYPES = ("application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json")
MAX_MANIFEST = 4 * 1024 * 1024  # distribution's own limit for a manifest
MAX_CONFIG = 8 * 1024 * 1024
MAX_TOKEN = 1024 * 1024
TIMEOUT = 15.0
MAX_NESTING = 3  # an index of indexes (a containerd export) is fine; a longer chain is not an image

_HUB_API = "registry-1.docker.io"  # moby registry/config.go DefaultRegistryHost
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"|(\w+)=([^\s,]+)')


def api_host(domain: str) -> str:
    return _HUB_API if domain == "docker.io" else domain


def is_loopback(host: str) -> bool:
    """Docker talks plain HTTP to these without being told (registry/config.go isSecureIndex)."""
    name = host
    if name.startswith("["):
        name = name[1 : name.find("]")] if "]" in name else name
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class RegistryClient:
    credentials: Credentials = field(default_factory=Credentials)
    insecure: frozenset[str] = frozenset()
    platform: Platform = field(default_factory=lambda: Platform.parse(PLATFORM))
    cache: ImageCache | None = None
    timeout: float = TIMEOUT
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def config(self, ref: ImageRef) -> ImageConfig:
        host = api_host(ref.domain)
        scheme = "http" if is_loopback(host) or host in self.insecure else "https"
        base = f"{scheme}://{host}/v2/{ref.path}"
        reference = ref.digest or ref.tag or "latest"
        where = f"registry {host}"
        key = f"{host}/{ref.path}@{reference}|{self.platform}"
        if self.cache is not None:
            known = self.cache.resolved(key, immutable=ref.digest is not None)
            blob = self.cache.blob(known["config"]) if known and "config" in known else None
            if known is not None and blob is not None:
                return parse_config(blob, digest=known["config"], where=where, manifest=known.get("manifest"))
        scope = f"repository:{ref.path}:pull"
        manifest_digest, manifest = self._manifest(base, reference, ref.digest, scope)
        pinned = manifest_digest  # what "FROM image@sha256:..." would name: the index when there is one
        for _ in range(MAX_NESTING):
            media = manifest.get("mediaType")
            if media in INDEXES or (media is None and "manifests" in manifest):
                chosen = self._pick(manifest)
                manifest_digest, manifest = self._manifest(base, chosen, chosen, scope)
                continue
            break
        if manifest.get("mediaType") not in (*MANIFESTS, None) or not isinstance(manifest.get("config"), dict):
            raise ImageError(f"{where}: the manifest of {ref} names no image config")
        descriptor = manifest["config"]
        digest = check_digest(str(descriptor.get("digest", "")))
        if descriptor.get("mediaType") not in CONFIG_TYPES:
            raise ImageError(f"{where}: {ref} is not a container image (config type {descriptor.get('mediaType')!r})")
        size = descriptor.get("size")
        if not isinstance(size, int) or not 0 <= size <= MAX_CONFIG:
            raise ImageError(f"{where}: the config of {ref} declares size {size!r}, over the {MAX_CONFIG} byte cap")
        blob = self.cache.blob(digest) if self.cache is not None else None
        if blob is None:
            _, _, blob = self._get(f"{base}/blobs/{digest}", "*/*", MAX_CONFIG, scope)
            verify(blob, digest)
            if len(blob) != size:
                raise ImageError(f"{where}: the config of {ref} is not the size its descriptor says")
        if self.cache is not None:
            self.cache.put_blob(digest, blob)
            self.cache.put_resolved(key, {"config": digest, "manifest": pinned})
        return parse_config(blob, digest=digest, where=where, manifest=pinned)

    def _manifest(self, base: str, reference: str, digest: str | None, scope: str) -> tuple[str, dict[str, Any]]:
        accept = ", ".join((*INDEXES, *MANIFESTS))
        _, headers, body = self._get(f"{base}/manifests/{reference}", accept, MAX_MANIFEST, scope)
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if digest is not None:
            verify(body, digest)
        else:
            sent = headers.get("Docker-Content-Digest")
            if sent and sent.startswith("sha256:") and sent != actual:
                raise ImageError(f"the manifest of {reference} does not match the digest the registry sent: refused")
        return actual, json_object(body, f"the manifest of {reference}")

    def _pick(self, index: Mapping[str, Any]) -> str:
        entries = index.get("manifests")
        if not isinstance(entries, list):
            raise ImageError("the image index has no manifests list")
        candidates = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            annotations = entry.get("annotations") or {}
            if isinstance(annotations, dict) and annotations.get("vnd.docker.reference.type") == "attestation-manifest":
                continue  # BuildKit's provenance and SBOM entries (platform unknown/unknown)
            if self.platform.matches(entry.get("platform")):
                candidates.append(entry)
        if not candidates:
            raise ImageError(f"the image index has no {self.platform} image (use --platform)")
        return check_digest(str(candidates[0].get("digest", "")))

    def _get(self, url: str, accept: str, cap: int, scope: str) -> tuple[int, Message, bytes]:
        import urllib.error
        import urllib.request

        host = urllib.parse.urlsplit(url).netloc
        token = self._tokens.get((host, scope))
        for attempt in range(2):
            request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310 - http(s) built above
            if token is not None:
                request.add_header("Authorization", token)
            try:
                with _opener(url).open(request, timeout=self.timeout) as response:
                    return response.status, response.headers, _read(response, cap, url)
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 0:
                    token = self._authorize(host, exc.headers.get("WWW-Authenticate", ""), scope)
                    self._tokens[(host, scope)] = token
                    continue
                raise ImageError(_http_reason(exc, url)) from None
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise ImageError(f"{host} unreachable: {_why(exc, self.timeout)}") from None
        raise ImageError(f"{host} refused the credentials it asked for")

    def _authorize(self, host: str, challenge: str, scope: str) -> str:
        import urllib.error
        import urllib.request

        scheme, _, rest = challenge.partition(" ")
        params = {m[0] or m[2]: m[1] or m[3] for m in _CHALLENGE_PARAM.findall(rest)}
        registry = _HUB_API if host == _HUB_API else host
        credential = self.credentials.get("docker.io" if registry == _HUB_API else host)
        if scheme.lower() == "basic":
            if credential is None:
                raise ImageError(f"{host} wants credentials: docker login {host}")
            return _basic(credential)
        if scheme.lower() != "bearer" or "realm" not in params:
            raise ImageError(f"{host} answered 401 with an authentication scheme secpolicy does not speak")
        realm = urllib.parse.urlsplit(params["realm"])
        if realm.scheme != "https" and not (realm.scheme == "http" and is_loopback(realm.netloc)):
            raise ImageError(f"{host} sends its token service at {params['realm']!r}: only HTTPS is used")
        query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
        url = params["realm"] + ("&" if realm.query else "?") + urllib.parse.urlencode(query)
        request = urllib.request.Request(url)  # noqa: S310 - https (or a loopback http) realm, checked above
        if credential is not None and credential.username != "<token>":
            request.add_header("Authorization", _basic(credential))
        try:
            with _opener(url).open(request, timeout=self.timeout) as response:
                doc = json.loads(_read(response, MAX_TOKEN, url))
        except urllib.error.HTTPError as exc:
            raise ImageError(f"token service of {host}: {_http_reason(exc, url)}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ImageError(f"token service of {host}: {getattr(exc, 'reason', exc)}") from None
        token = doc.get("token") or doc.get("access_token") if isinstance(doc, dict) else None
        if not isinstance(token, str) or not token:
            raise ImageError(f"the token service of {host} returned no token")
        return f"Bearer {token}"


def _why(exc: Exception, timeout: float) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return f"no answer within {timeout:g} s"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def _basic(credential: Credential) -> str:
    return "Basic " + base64.b64encode(f"{credential.username}:{credential.secret}".encode()).decode()


def _read(response: Any, cap: int, url: str) -> bytes:
    data: bytes = response.read(cap + 1)
    if len(data) > cap:
        raise ImageError(f"{url}: the answer is larger than {cap} bytes: refused")
    return data


def _http_reason(exc: urllib.error.HTTPError, url: str) -> str:
    path = urllib.parse.urlsplit(url).path
    if exc.code == 404:
        return f"{path}: not found (404)"
    if exc.code in (401, 403):
        return f"{path}: access denied ({exc.code}); docker login may be needed"
    if exc.code == 429:
        return f"{path}: rate limited (429); log in (docker login) for a higher limit, or rely on the cache: a second run asks nothing"
    return f"{path}: HTTP {exc.code}"


def _opener(url: str = "") -> urllib.request.OpenerDirector:
    """Proxies from the environment, except for a loopback registry, which a proxy cannot reach."""
    import urllib.request

    direct = is_loopback(urllib.parse.urlsplit(url).netloc)
    return urllib.request.build_opener(_redirects()(), urllib.request.ProxyHandler({} if direct else None))


@cache
def _redirects() -> type[urllib.request.HTTPRedirectHandler]:
    import urllib.error
    import urllib.request
    from http.client import HTTPMessage

    class _Redirects(urllib.request.HTTPRedirectHandler):
        """Redirects keep Authorization on the same host only, and never downgrade HTTPS to HTTP."""

        def redirect_request(
            self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: HTTPMessage, newurl: str
        ) -> urllib.request.Request | None:
            new = super().redirect_request(req, fp, code, msg, headers, newurl)
            if new is None:
                return None
            old, target = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if old.scheme == "https" and target.scheme != "https" and not is_loopback(target.netloc):
                raise urllib.error.URLError(f"refused a redirect from HTTPS to {target.scheme}://{target.netloc}")
            if target.netloc != old.netloc:
                for name in list(new.headers):
                    if name.lower() == "authorization":
                        del new.headers[name]
            return new

    return _Redirects
