"""The real pre-commit runs this checkout's hook (`pre-commit try-repo`) in a throwaway git repository.

pre-commit builds the hook's environment by installing this checkout from
source, which needs PyPI the first time; the test is marked slow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PRE_COMMIT = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(PRE_COMMIT).exists(), reason="pre-commit (dev dependency) is not installed"),
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]

FILES = {
    "Dockerfile": 'FROM python:3.12\nCOPY app.py /app/\nCMD ["python", "/app/app.py"]\n',
    "good/Dockerfile": 'FROM python:3.12\nCOPY app.py /app/\nUSER 10001\nCMD ["python", "/app/app.py"]\n',
    "good/.dockerignore": "**/.env\n",
    "good/app.py": "print('hi')\n",
    "app.py": "print('hi')\n",
    ".dockerignore": "**/.env\n",
    "docker-compose.yml": "services:\n  web:\n    image: nginx\n",
    "k8s/pod.yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: c\n    image: nginx:1.27\n    securityContext: {privileged: true}\n"
    ),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("target")
    home = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "HOME": str(home),
        "PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-cache")),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    env.pop("VIRTUAL_ENV", None)
    for name, text in FILES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, env=env, check=True)
    subprocess.run(["git", "add", "."], cwd=root, env=env, check=True)
    return root, env


def run(repo: tuple[Path, dict[str, str]], *files: str) -> subprocess.CompletedProcess[str]:
    root, env = repo
    return subprocess.run(
        [PRE_COMMIT, "try-repo", str(ROOT), "secpolicy", "--verbose", "--files", *files],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_a_root_dockerfile_fails_the_hook_and_shows_the_finding(repo: tuple[Path, dict[str, str]]) -> None:
    result = run(repo, "Dockerfile", ".dockerignore")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "Dockerfile:1:1: DF101 [error] stage 0 runs as root" in result.stdout
    assert result.stdout.count("DF101") == 1  # the Dockerfile and its .dockerignore: linted once


def test_a_good_dockerfile_passes(repo: tuple[Path, dict[str, str]]) -> None:
    result = run(repo, "good/Dockerfile", "good/.dockerignore", "good/app.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_yaml_that_is_not_kubernetes_passes_quietly(repo: tuple[Path, dict[str, str]]) -> None:
    result = run(repo, "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
    assert "SP001" not in result.stdout


def test_a_privileged_pod_fails(repo: tuple[Path, dict[str, str]]) -> None:
    result = run(repo, "k8s/pod.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "K8S002" in result.stdout
