"""The pre-commit hook selects exactly the files ``secpolicy lint`` would discover."""

from __future__ import annotations

import re

import pytest
import yaml
from conftest import ROOT

from secpolicy.discover import is_walked

NAMES = [
    "Dockerfile",
    "svc/Dockerfile",
    "Containerfile",
    "Dockerfile.prod",
    "a/Containerfile.dev",
    "api.Dockerfile",
    "api.dockerfile",
    "Dockerfile.dockerignore",
    "README.md",
    "Dockerfiles/x.txt",
    "my-Dockerfile",
    "docs/dockerfile.md",
    "Dockerfile.tmpl",
    "svc/Dockerfile.j2",
    "Dockerfile.template",
    ".dockerignore",
    "svc/api.Dockerfile.dockerignore",
    "k8s/pod.yaml",
    "k8s/pod.YML",
    "deploy/list.json",
    "chart/templates/deployment.yaml",
    "notes.txt",
    "dockerignore.md",
]


@pytest.mark.parametrize("path", NAMES)
def test_hook_file_pattern_matches_discovery(path: str) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "secpolicy lint"
    selected = bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)
    name = path.rsplit("/", 1)[-1]
    # what discovery walks, and the ignore files (which stand for the Dockerfiles they apply to);
    # Helm templates are not YAML until rendered
    expected = (is_walked(name) or name.endswith(".dockerignore")) and "templates/" not in path
    assert selected == expected


def test_the_project_runs_its_own_hook() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    [hooks_file_hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    [local] = [r for r in config["repos"] if r["repo"] == "local"]
    ours = {h["id"]: h for h in local["hooks"]}
    assert ours["secpolicy"]["files"] == hooks_file_hook["files"]
    assert ours["secpolicy"]["entry"].endswith(hooks_file_hook["entry"])
    assert {"ruff", "mypy", "rule-docs"} <= set(ours)
