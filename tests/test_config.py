from __future__ import annotations

from pathlib import Path

import pytest

from secpolicy.config import ConfigError, discover, load
from secpolicy.resolve.images import parse_ref


def test_image_map_loads_and_matches(tmp_path: Path) -> None:
    for name in ("services/api/Dockerfile", "worker/Dockerfile"):
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_text("FROM alpine\n")
    cfg = tmp_path / "secpolicy.yaml"
    cfg.write_text(
        "images:\n"
        "  ghcr.io/acme/api: {dockerfile: services/api/Dockerfile}\n"
        "  ghcr.io/acme/worker:v2: {dockerfile: worker/Dockerfile, target: final}\n"
        '  gcr.io/distroless/static:nonroot: {user: "65532:65532"}\n'
    )
    config = load(cfg)
    api = config.image(parse_ref("ghcr.io/acme/api:1.0"))  # type: ignore[arg-type]
    assert api is not None
    assert api.dockerfile == tmp_path / "services/api/Dockerfile"
    assert api.line == 2
    assert config.image(parse_ref("ghcr.io/acme/worker:v1")) is None  # type: ignore[arg-type]
    worker = config.image(parse_ref("ghcr.io/acme/worker:v2"))  # type: ignore[arg-type]
    assert worker is not None
    assert worker.target == "final"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("images: [a]\n", "secpolicy.yaml:1: images: must be a mapping"),
        ("profile: strict\n", "secpolicy.yaml:1: profile: must be one of default, pss-baseline, pss-restricted"),
        ("profil: default\n", "secpolicy.yaml:1: profil: unknown key (this version knows: contexts, exceptions,"),
        ("images:\n  a/b: {user: x, dockerfile: y}\n", "secpolicy.yaml:2: images.a/b: give exactly one"),
        ("images:\n  a/b:\n    usr: x\n", "secpolicy.yaml:3: images.a/b.usr: unknown key"),
        ("images:\n  a/b: {target: x}\n", "secpolicy.yaml:2: images.a/b: give exactly one"),
        ("images: {a: [}\n", "secpolicy.yaml:1: invalid YAML"),
    ],
)
def test_errors_name_path_key_and_line(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "secpolicy.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(cfg)
    assert f"{tmp_path}/{message}" in str(info.value)


def test_discover_walks_up(tmp_path: Path) -> None:
    (tmp_path / ".secpolicy.yaml").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert discover(deep) == tmp_path / ".secpolicy.yaml"


def test_invalid_config_is_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "secpolicy.yaml").write_text("images: 3\n")
    (tmp_path / "Dockerfile").write_text("FROM alpine\n")
    result = subprocess.run(
        [sys.executable, "-m", "secpolicy", "lint"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "secpolicy.yaml:1: images: must be a mapping" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "images:\n  nginx: {user: '1'}\n  nginx: {user: '2'}\n",
            "secpolicy.yaml:3: images.nginx: duplicate image: already given on line 2",
        ),
        (
            "images:\n  nginx: {user: '1'}\n  docker.io/library/nginx: {user: '2'}\n",
            "secpolicy.yaml:3: images.docker.io/library/nginx: duplicate image: already given on line 2 (nginx is the same image)",
        ),
        ("images:\n  a/b: {user: 'a:b:c'}\n", "secpolicy.yaml:2: images.a/b.user: 'a:b:c' is not user[:group]"),
        ("images:\n  a/b: {user: ':1'}\n", "secpolicy.yaml:2: images.a/b.user: ':1' is not user[:group]"),
        (
            "images:\n  Acme/App: {user: '1'}\n",
            "secpolicy.yaml:2: images.Acme/App: not an image reference: invalid reference format: repository name (App) must be lowercase",
        ),
        ("images:\n  'a b': {user: '1'}\n", "secpolicy.yaml:2: images.a b: not an image reference"),
        (
            "images:\n  ? [a, b]\n  : {user: '1'}\n",
            "secpolicy.yaml:2: images.[a, b]: an image reference must be a string",
        ),
        (
            "images:\n  a/b: {dockerfile: missing/Dockerfile}\n",
            "secpolicy.yaml:2: images.a/b.dockerfile: missing/Dockerfile does not exist",
        ),
    ],
)
def test_image_map_errors_name_file_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    cfg = tmp_path / "secpolicy.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(cfg)
    assert str(info.value).startswith(f"{cfg.parent}/{message}")
