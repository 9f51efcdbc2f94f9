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
]


@pytest.mark.parametrize("path", NAMES)
def test_hook_file_pattern_matches_discovery(path: str) -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["entry"] == "secpolicy lint"
    selected = bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)
    assert selected == is_walked(path.rsplit("/", 1)[-1])
