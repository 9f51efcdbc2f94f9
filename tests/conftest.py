from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_configure(config: pytest.Config) -> None:
    # caches (image configs, validated config files) go to a throwaway directory, never to $HOME
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="secpolicy-test-cache-")


@pytest.fixture(scope="session")
def rules():
    from secpolicy import catalog

    return catalog.load()


def shared_dir(*parts: str) -> Path:
    """A folder of ../shared, or a skip that says why it is missing."""
    path = SHARED.joinpath(*parts)
    if not path.is_dir():
        pytest.skip(f"{path} not present: conformance data lives in ../shared beside the checkout")
    return path


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
