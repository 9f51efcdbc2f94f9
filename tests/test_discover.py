from __future__ import annotations

import os
from pathlib import Path

import pytest

from secpolicy.discover import discover, is_dockerfile


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "Containerfile", "Dockerfile.prod", "api.Dockerfile", "api.dockerfile", "Containerfile.dev"],
)
def test_dockerfile_names(name: str) -> None:
    assert is_dockerfile(name)


@pytest.mark.parametrize(
    "name", ["Dockerfile.dockerignore", "dockerfile.txt", "README.md", "Dockerfiles", ".dockerignore"]
)
def test_not_dockerfile_names(name: str) -> None:
    assert not is_dockerfile(name)


def _touch(path: Path, text: str = "FROM alpine\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_walk_skips_git_and_honours_nested_gitignore(tmp_path: Path) -> None:
    _touch(tmp_path / "Dockerfile")
    _touch(tmp_path / ".git" / "Dockerfile")
    _touch(tmp_path / "vendor" / "Dockerfile")
    _touch(tmp_path / "svc" / "Dockerfile.prod")
    _touch(tmp_path / "svc" / "gen" / "Dockerfile")
    _touch(tmp_path / "svc" / "keep" / "Dockerfile")
    _touch(tmp_path / "notes.txt")
    (tmp_path / ".gitignore").write_text("vendor/\ngen/\n")
    (tmp_path / "svc" / ".gitignore").write_text("!gen/\n*.prod\n")
    found = sorted(str(f.path.relative_to(tmp_path)) for f in discover([tmp_path]))
    assert found == ["Dockerfile", "svc/gen/Dockerfile", "svc/keep/Dockerfile"]


def test_files_named_explicitly_are_always_linted(tmp_path: Path) -> None:
    _touch(tmp_path / "build.txt")
    (tmp_path / ".gitignore").write_text("*.txt\n")
    assert [f.path for f in discover([tmp_path / "build.txt"])] == [tmp_path / "build.txt"]


def test_symlinks_not_followed_out_of_tree_and_loops_survive(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _touch(outside / "Dockerfile")
    root = tmp_path / "repo"
    _touch(root / "Dockerfile")
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "ext").symlink_to(outside, target_is_directory=True)
    (root / "Dockerfile.ext").symlink_to(outside / "Dockerfile")
    (root / "Dockerfile.self").symlink_to(root / "Dockerfile")
    (root / "Dockerfile.dangling").symlink_to(root / "missing")
    found = {str(f.path.relative_to(root)): f.problem for f in discover([root])}
    assert set(found) == {"Dockerfile", "Dockerfile.ext", "Dockerfile.self", "Dockerfile.dangling"}
    assert found["Dockerfile"] is None
    assert found["Dockerfile.self"] is None
    assert "outside the linted directory" in (found["Dockerfile.ext"] or "")
    assert "broken or looping" in (found["Dockerfile.dangling"] or "")


def test_unreadable_directory_is_reported_and_the_walk_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # root reads a mode-000 directory, so EACCES is simulated (CI runs as root)
    locked = tmp_path / "locked"
    locked.mkdir()
    _touch(tmp_path / "open" / "Dockerfile")
    real_scandir = os.scandir

    def scandir(path: object) -> object:
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)  # type: ignore[call-overload]

    monkeypatch.setattr(os, "scandir", scandir)
    found = list(discover([tmp_path]))
    problems = [f.problem for f in found if f.problem]
    assert problems == ["cannot read directory: Permission denied"]
    assert [f.path for f in found if not f.problem] == [tmp_path / "open" / "Dockerfile"]


def test_manifests_are_walked_with_gitignore_exclude_and_helm_templates(tmp_path: Path) -> None:
    from secpolicy.discover import discover

    for name in (
        "k8s/app.yaml",
        "k8s/app.yml",
        "k8s/app.json",
        "gen/out.yaml",
        "vendor/x.yaml",
        "chart/templates/t.yaml",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x: 1\n")
    (tmp_path / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (tmp_path / ".gitignore").write_text("gen/\n")
    found = sorted(str(f.path.relative_to(tmp_path)) for f in discover([tmp_path], ["vendor/"]))
    assert found == ["chart/Chart.yaml", "k8s/app.json", "k8s/app.yaml", "k8s/app.yml"]
