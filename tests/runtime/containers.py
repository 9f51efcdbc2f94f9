"""A busybox rootfs and ``secpolicy run`` as a subprocess, for the tests that start real containers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BUSYBOX = next((p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p)), None)
APPLETS = ("sh", "id", "cat", "grep", "touch", "echo", "ls", "nc", "sleep", "kill", "readlink", "pwd", "true")
STATUS_LINES = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def make_rootfs(root: Path) -> Path:
    for d in ("bin", "etc", "proc", "dev", "sys", "tmp", "home/app"):
        (root / d).mkdir(parents=True)
    (root / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n"
    )
    (root / "etc" / "group").write_text("root:x:0:\nwheel:x:10:app\naudio:x:29:app\napp:x:1000:\n")
    if BUSYBOX is not None:
        shutil.copy(BUSYBOX, root / "bin" / "busybox")
        for name in APPLETS:
            (root / "bin" / name).symlink_to("busybox")
    return root


def secpolicy_run(*args: str, cwd: Path | None = None, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", 120)
    return subprocess.run(
        [sys.executable, "-m", "secpolicy", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def status_lines(output: str) -> dict[str, str]:
    """The /proc/self/status lines the runtimes must agree on, tabs and all."""
    out = {}
    for line in output.splitlines():
        key, sep, value = line.partition(":")
        if sep and key in STATUS_LINES:
            out[key] = value.strip()
    return out


needs_runc = pytest.mark.skipif(
    not is_root() or shutil.which("runc") is None or BUSYBOX is None,
    reason="needs root, runc and a static busybox (dev.sh test installs runc and busybox-static as root)",
)
needs_root = pytest.mark.skipif(
    not is_root() or BUSYBOX is None or not sys.platform.startswith("linux"),
    reason="the bundled runtime needs Linux, root (namespaces and mounts) and a static busybox "
    "(dev.sh test installs busybox-static as root)",
)


def started(rootfs: Path, script: str, *flags: str) -> subprocess.Popen[str]:
    """``secpolicy run -u 1000 -- sh -c SCRIPT`` in the background, once the script has printed its first line."""
    command = [sys.executable, "-m", "secpolicy", "run", "--rootfs", str(rootfs), "-u", "1000", *flags, "--"]
    proc = subprocess.Popen(
        [*command, "/bin/sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc
