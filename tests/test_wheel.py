"""The wheel carries the rule catalog: build it, install it in a fresh venv, run it."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.mark.slow
def test_wheel_installs_and_lists_rules(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = dist.glob("secpolicy-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "secpolicy/_rules/DF101.yaml" in names
    assert not any(n.startswith(("tests/", "fixtures/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True)
    # run from an empty directory so nothing from the checkout can be imported
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(env_dir / "bin" / "secpolicy"), "rules"], cwd=work, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "DF101" in result.stdout
    assert "SP001" in result.stdout
    (work / "Dockerfile").write_text("FROM alpine\nUSER 0\n")
    result = subprocess.run(
        [str(env_dir / "bin" / "secpolicy"), "lint"], cwd=work, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 1
    assert "DF101" in result.stdout
    freeze = subprocess.run([str(py), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout.lower()
    assert "prctl" not in freeze
