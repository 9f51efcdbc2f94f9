"""Starting the planned container: the bundled runtime, or an OCI runtime (runc or crun) given a bundle.

The bundle is a private temporary directory holding only ``config.json``;
the rootfs is referred to by its absolute path.  The runtime's state lives
in another private temporary directory, so nothing is left in ``/run``.
stdin, stdout and stderr are passed through; the exit status is the
command's (128+N for a signal, as runc reports it).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from secpolicy.runtime import signals

RUNTIMES = ("bundled", "runc", "crun")


class LaunchError(Exception):
    pass


def run_with(runtime: str, config: dict[str, Any]) -> int:
    if runtime == "bundled":
        return run_bundled(config)
    import json  # the OCI runtimes' path only: the bundled one starts faster without these
    import secrets
    import shutil
    import subprocess
    import tempfile

    program = shutil.which(runtime)
    if program is None:
        raise LaunchError(f"{runtime} is not installed (apt-get install {runtime})")
    with (
        tempfile.TemporaryDirectory(prefix="secpolicy-bundle-") as bundle,
        tempfile.TemporaryDirectory(prefix="secpolicy-state-") as state,
    ):
        os.chmod(bundle, 0o700)
        with open(os.path.join(bundle, "config.json"), "w", encoding="utf-8") as fh:
            json.dump(config, fh, indent=2)
        name = f"secpolicy-{os.getpid()}-{secrets.token_hex(4)}"
        # signals are forwarded to the runtime (which forwards them to the container) and never end this
        # process first: the bundle and state directories are always removed
        old_chld = signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals.WATCHED)
        try:
            proc = subprocess.Popen(  # noqa: S603 - the runtime, by the name the user gave, on our own bundle
                [program, "--root", state, "run", "--bundle", bundle, name],
                preexec_fn=lambda: signal.pthread_sigmask(signal.SIG_SETMASK, old_mask),
            )
            # runc shares our process group: the terminal's ^C reached it already
            proc.returncode = signals.supervise(proc.pid, reap_all=False, from_kernel=False)
            return proc.returncode
        finally:
            signals.drain()
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
            signal.signal(signal.SIGCHLD, old_chld)


def run_bundled(config: dict[str, Any]) -> int:
    """The bundled runtime: Linux, as root (it creates namespaces and mounts; rootless needs runc or crun)."""
    if not sys.platform.startswith("linux"):
        raise LaunchError("the bundled runtime runs on Linux only")
    if os.geteuid() != 0:
        raise LaunchError(
            "the bundled runtime needs root (namespaces, mounts, capabilities); "
            "run as root, or use --runtime runc for a rootless runc"
        )
    from secpolicy.runtime import bundled, spec

    try:
        container = spec.read(config)
        return bundled.Runtime().run(container)
    except (spec.SpecError, OSError) as exc:
        raise LaunchError(f"the bundled runtime cannot start: {exc}") from None
