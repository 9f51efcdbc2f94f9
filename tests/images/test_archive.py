"""Image configs from an OCI layout, a docker save archive and the daemon's socket."""

from __future__ import annotations

import io
import json
import socketserver
import tarfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from fakeregistry import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, digest_of

from secpolicy.images.archive import DockerArchive, Layout
from secpolicy.images.config import ImageError
from secpolicy.images.daemon import Daemon
from secpolicy.images.platform import Platform
from secpolicy.reference import parse

AMD64 = Platform.parse("linux/amd64")


def layout_files(configs: dict[str, dict[str, object]], *, nested: bool = False) -> dict[str, bytes]:
    """An OCI layout: one manifest per tag (annotated), optionally behind a per-tag index."""
    files: dict[str, bytes] = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
    entries = []
    for tag, config in configs.items():
        blob = json.dumps(config).encode()
        manifest = json.dumps(
            {
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": digest_of(blob), "size": len(blob)},
            }
        ).encode()
        files[f"blobs/sha256/{digest_of(blob)[7:]}"] = blob
        files[f"blobs/sha256/{digest_of(manifest)[7:]}"] = manifest
        top, kind = manifest, OCI_MANIFEST
        if nested:
            top = json.dumps(
                {
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
            kind = OCI_INDEX
            files[f"blobs/sha256/{digest_of(top)[7:]}"] = top
        entries.append(
            {
                "mediaType": kind,
                "digest": digest_of(top),
                "size": len(top),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        )
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": entries}).encode()
    return files


def write(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_layout_by_tag_and_by_full_reference(tmp_path: Path) -> None:
    root = write(
        tmp_path / "layout", layout_files({"1.0": {"config": {"User": "app"}}, "docker.io/library/demo:2.0": {}})
    )
    layout = Layout(root, AMD64)
    assert layout.config(parse("demo:1.0")).user == "app"
    found = layout.config(parse("demo:2.0"))
    assert found.user == ""
    assert found.where == f"oci:{root}"
    with pytest.raises(ImageError, match=r"no image tagged 3\.0"):
        layout.config(parse("demo:3.0"))


def test_layout_with_an_index_per_image(tmp_path: Path) -> None:
    root = write(tmp_path, layout_files({"1.0": {"config": {"User": "65532", "Env": ["A=1"]}}}, nested=True))
    found = Layout(root, AMD64).config(parse("anything:else"))  # a single image answers for any reference
    assert (found.user, dict(found.env)) == ("65532", {"A": "1"})


def test_layout_refuses_links_and_tampering(tmp_path: Path) -> None:
    files = layout_files({"1.0": {"config": {"User": "app"}}})
    root = write(tmp_path / "layout", files)
    config_blob = next(n for n, d in files.items() if n.startswith("blobs/") and b"User" in d)
    outside = tmp_path / "outside.json"
    outside.write_bytes(files[config_blob])
    (root / config_blob).unlink()
    (root / config_blob).symlink_to(outside)  # even a link to the right content is not followed
    with pytest.raises(ImageError, match="cannot read"):
        Layout(root, AMD64).config(parse("demo:1.0"))
    (root / config_blob).unlink()
    (root / config_blob).write_bytes(b'{"config": {"User": "0"}}')
    with pytest.raises(ImageError, match="does not match its digest"):
        Layout(root, AMD64).config(parse("demo:1.0"))
    with pytest.raises(ImageError, match="not an OCI image layout"):
        Layout(tmp_path / "missing", AMD64).config(parse("demo:1.0"))


def test_layout_refuses_a_linked_directory(tmp_path: Path) -> None:
    files = layout_files({"1.0": {"config": {"User": "app"}}})
    real = write(tmp_path / "real", files)
    root = tmp_path / "layout"
    root.mkdir()
    (root / "oci-layout").write_bytes(files["oci-layout"])
    (root / "index.json").write_bytes(files["index.json"])
    (root / "blobs").symlink_to(real / "blobs")
    with pytest.raises(ImageError, match="is a link"):
        Layout(root, AMD64).config(parse("demo:1.0"))


def test_legacy_docker_save_archive(tmp_path: Path) -> None:
    blob = json.dumps({"config": {"User": "1001:0", "Env": ["HOME=/app"]}}).encode()
    name = f"{digest_of(blob)[7:]}.json"
    manifest = [{"Config": name, "RepoTags": ["registry.example.com/team/app:1.4"], "Layers": ["abc/layer.tar"]}]
    path = tar(
        tmp_path / "a.tar", {"manifest.json": json.dumps(manifest).encode(), name: blob, "abc/layer.tar": b"x" * 10}
    )
    found = DockerArchive(path, AMD64).config(parse("registry.example.com/team/app:1.4"))
    assert (found.user, found.digest) == ("1001:0", digest_of(blob))
    tar(tmp_path / "b.tar", {"manifest.json": json.dumps(manifest * 2).encode(), name: blob})
    with pytest.raises(ImageError, match="no image tagged"):
        DockerArchive(tmp_path / "b.tar", AMD64).config(parse("other:1"))


def test_oci_docker_save_archive(tmp_path: Path) -> None:
    path = tar(tmp_path / "oci.tar", layout_files({"docker.io/library/demo:1.0": {"config": {"User": "nobody"}}}))
    assert DockerArchive(path, AMD64).config(parse("demo:1.0")).user == "nobody"


def test_archive_problems_are_clear(tmp_path: Path) -> None:
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(ImageError, match=r"cannot read the archive|neither index\.json"):
        DockerArchive(tmp_path / "junk.tar", AMD64).config(parse("demo:1"))
    path = tar(tmp_path / "e.tar", {"other.txt": b"x"})
    with pytest.raises(ImageError, match=r"neither index\.json nor manifest\.json"):
        DockerArchive(path, AMD64).config(parse("demo:1"))


def test_archive_tricks_are_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "tricks.tar"
    with tarfile.open(path, "w") as archive:
        link = tarfile.TarInfo("manifest.json")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
        data = json.dumps([{"Config": "../../etc/shadow", "RepoTags": ["demo:1"]}]).encode()
        info = tarfile.TarInfo("../manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    with pytest.raises(ImageError, match="not a regular file"):
        DockerArchive(path, AMD64).config(parse("demo:1"))  # only members, by name, as regular files: nothing else
    tar(
        tmp_path / "t2.tar",
        {"manifest.json": json.dumps([{"Config": "../../etc/shadow", "RepoTags": ["demo:1"]}]).encode()},
    )
    with pytest.raises(ImageError, match="not in the archive"):
        DockerArchive(tmp_path / "t2.tar", AMD64).config(parse("demo:1"))


class _UnixHTTP(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def test_daemon_over_its_unix_socket(tmp_path: Path) -> None:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def address_string(self) -> str:
            return "local"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.path)
            if "missing" in self.path:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps({"Id": "sha256:" + "a" * 64, "Config": {"User": "redis", "Env": ["X=1"]}}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    path = tmp_path / "docker.sock"
    server = _UnixHTTP(str(path), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        found = Daemon(path).config(parse("redis:7"))
        assert (found.user, dict(found.env)) == ("redis", {"X": "1"})
        assert seen == ["/images/docker.io%2Flibrary%2Fredis%3A7/json"]
        with pytest.raises(ImageError, match="no such image"):
            Daemon(path).config(parse("missing:1"))
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(ImageError, match="daemon at"):
        Daemon(tmp_path / "gone.sock").config(parse("redis:7"))
