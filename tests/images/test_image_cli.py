"""`--images` on lint, resolve and `image inspect`, end to end against a registry in a thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fakeregistry import Registry, serving
from test_archive import layout_files, write


def run(args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "DOCKER_CONFIG": str(cache / "no-docker")}
    return subprocess.run(
        [sys.executable, "-m", "secpolicy", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )


def test_lint_reads_the_real_config_and_a_second_run_is_offline(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    project = tmp_path / "project"
    project.mkdir()
    (project / ".dockerignore").write_text("x\n")
    config = {"config": {"User": "", "Env": ["APP_UID=4242", "PATH=/usr/bin"]}}
    with serving(Registry(token="tok")) as reg:
        reg.add_image("team/base", "1", config)
        (project / "Dockerfile").write_text(f"FROM {reg.host}/team/base:1\nUSER $APP_UID\n")
        first = run(["resolve", ".", "--images", "registry", "--format", "json"], project, cache)
        assert first.returncode == 0, first.stderr
        [context] = json.loads(first.stdout)
        assert context["user"]["uid"] == 4242  # the image's Env expands USER $APP_UID
        (project / "Dockerfile").write_text(f"FROM {reg.host}/team/base:1\nRUN true\n")
        root = run(["lint", ".", "--images", "registry", "--format", "json", "--select", "DF101"], project, cache)
        [finding] = json.loads(root.stdout)["findings"]
        assert 'config.User "" (registry' in finding["message"]
        assert "no USER, so it runs as root" in finding["message"]
        assert f"registry {reg.host}" in finding["message"]
    again = run(["lint", ".", "--images", "registry", "--format", "json", "--select", "DF101"], project, cache)
    assert json.loads(again.stdout)["findings"] == json.loads(root.stdout)["findings"]  # from the cache
    refreshed = run(["lint", ".", "--images", "registry", "--refresh-images", "--select", "DF101"], project, cache)
    assert "unreachable" in refreshed.stdout
    assert "may run as root" in refreshed.stdout  # unknown, not passed


def test_default_is_builtin_and_never_the_network(tmp_path: Path) -> None:
    with serving(Registry()) as reg:
        reg.add_image("team/base", "1", {"config": {"User": "1000"}})
        (tmp_path / "Dockerfile").write_text(f"FROM {reg.host}/team/base:1\n")
        (tmp_path / ".dockerignore").write_text("x\n")
        result = run(["lint", ".", "--select", "DF101"], tmp_path, tmp_path / "cache")
    assert reg.seen == []
    assert "may run as root" in result.stdout


def test_image_inspect_from_a_layout_and_json(tmp_path: Path) -> None:
    layout = write(tmp_path / "layout", layout_files({"1.0": {"config": {"User": "haproxy", "Env": ["A=1"]}}}))
    text = run(["image", "inspect", "haproxy:1.0", "--images", f"oci:{layout}"], tmp_path, tmp_path / "c")
    assert text.returncode == 0, text.stderr
    assert "user     haproxy, uid 99" in text.stdout  # the name from the config, its uid from the table
    assert f"source   oci:{layout}" in text.stdout
    doc = json.loads(
        run(
            ["image", "inspect", "haproxy:1.0", "--images", f"oci:{layout}", "-f", "json"], tmp_path, tmp_path / "c"
        ).stdout
    )
    assert doc["env"] == {"A": "1"}
    assert doc["env_complete"] is True
    assert doc["config_digest"].startswith("sha256:")


def test_config_key_and_bad_sources(tmp_path: Path) -> None:
    write(tmp_path / "layout", layout_files({"2": {"config": {"User": "10001"}}}))
    (tmp_path / "secpolicy.yaml").write_text("image-sources: [oci:layout, builtin]\nplatform: linux/arm64\n")
    found = run(["image", "inspect", "team/app:2"], tmp_path, tmp_path / "c")
    assert "uid 10001" in found.stdout
    bad = run(["image", "inspect", "nginx", "--images", "ftp"], tmp_path, tmp_path / "c")
    assert bad.returncode == 2
    assert "use builtin, registry, daemon, oci:DIR or docker-archive:FILE" in bad.stderr
    (tmp_path / "secpolicy.yaml").write_text("platform: amd64\n")
    bad = run(["lint", "."], tmp_path, tmp_path / "c")
    assert bad.returncode == 2
    assert "secpolicy.yaml:1: platform" in bad.stderr
    assert "Traceback" not in bad.stderr
