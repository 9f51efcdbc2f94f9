"""Benchmark: starting /bin/true under secpolicy run, runc and crun, and the bundled runtime's own launch.

Usage: python bench/runtime.py [--rounds N]   (as root; run by bench/run.py)

One busybox rootfs and one bundle (the ``config.json`` that ``secpolicy run
--dry-run`` prints for ``-u 1000 -- /bin/true``), then, interleaved round by
round in the same run:

* ``secpolicy run --rootfs R -u 1000 -- /bin/true`` (the whole command: Python,
  imports, plan, gate, the bundled runtime);
* ``runc run`` and ``crun run`` of the bundle (crun also with
  ``--cgroup-manager=disabled``, like for like: the bundled runtime makes no
  cgroup);
* the bundled runtime in this process: fork to exit of the same config.

The whole benchmark runs in a private mount namespace where an empty file
hides ``/sys/fs/cgroup/unified/cgroup.controllers``, since crun refuses a
hybrid cgroup host; nothing outside that namespace changes.  Medians in ms;
targets: ``secpolicy run`` / ``runc run`` at most 1.0, in-process / ``crun
run`` at most 1.5.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HYBRID = Path("/sys/fs/cgroup/unified/cgroup.controllers")


def rootfs(where: Path) -> Path:
    busybox = next(p for p in ("/bin/busybox", "/usr/bin/busybox") if os.path.exists(p))
    root = where / "rootfs"
    for d in ("bin", "etc", "proc", "dev", "sys", "tmp"):
        (root / d).mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    (root / "bin" / "true").symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0::/:/bin/true\napp:x:1000:1000::/:/bin/true\n")
    (root / "etc" / "group").write_text("root:x:0:\napp:x:1000:\n")
    return root


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr.decode(errors='replace')[:300]}")
    return elapsed * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    missing = [tool for tool in ("runc", "crun", "unshare") if shutil.which(tool) is None]
    if os.geteuid() != 0 or missing or not any(os.path.exists(p) for p in ("/bin/busybox", "/usr/bin/busybox")):
        print(f"skipped: needs root, busybox-static and {', '.join(missing) or 'runc, crun'}")
        return 0
    if not args.inside:
        inner = [sys.executable, str(Path(__file__).resolve()), "--inside", "--rounds", str(args.rounds)]
        return subprocess.run(["unshare", "--mount", "--propagation", "private", *inner], check=False).returncode
    with tempfile.TemporaryDirectory(prefix="secpolicy-bench-run-") as tmp:
        where = Path(tmp)
        if HYBRID.exists():
            (where / "empty").write_text("")
            subprocess.run(["mount", "--bind", str(where / "empty"), str(HYBRID)], check=True)
        root = rootfs(where)
        secpolicy = [sys.executable, "-m", "secpolicy", "run", "--rootfs", str(root), "-u", "1000", "--"]
        printed = subprocess.run([*secpolicy[:-1], "--dry-run", "--", "/bin/true"], capture_output=True, text=True)
        config = json.loads(printed.stdout[printed.stdout.index("{") :])
        bundle = where / "bundle"
        bundle.mkdir()
        (bundle / "config.json").write_text(json.dumps(config))
        state = where / "state"
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "secpolicy")], check=False)

        from secpolicy.runtime import bundled, spec

        runtime = bundled.Runtime()
        container = spec.read(config)

        def in_process() -> float:
            start = time.perf_counter()
            code = runtime.run(container)
            elapsed = time.perf_counter() - start
            if code != 0:
                raise SystemExit(f"the bundled runtime exited {code}")
            return elapsed * 1000

        commands = {
            "secpolicy run": lambda i: timed([*secpolicy, "/bin/true"]),
            "runc run": lambda i: timed(["runc", "--root", str(state), "run", "-b", str(bundle), f"r{i}"]),
            "crun run": lambda i: timed(["crun", "--root", str(state), "run", "-b", str(bundle), f"c{i}"]),
            "crun run, no cgroup": lambda i: timed(
                ["crun", "--cgroup-manager=disabled", "--root", str(state), "run", "-b", str(bundle), f"d{i}"]
            ),
            "bundled, in process": lambda i: in_process(),
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for i in range(-3, args.rounds):  # three rounds of warm-up
            for name, run in commands.items():
                elapsed = run(i + 1000 if i < 0 else i)
                if i >= 0:
                    samples[name].append(elapsed)
    median = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in median.items():
        print(f"{name:22} {value:7.2f} ms median  (min {min(samples[name]):.2f}, {args.rounds} rounds)")
    whole = median["secpolicy run"] / median["runc run"]
    launch = median["bundled, in process"] / median["crun run"]
    strict = median["bundled, in process"] / median["crun run, no cgroup"]
    print(f"secpolicy run / runc run:          {whole:.2f}  (target <= 1.0)")
    print(f"in-process launch / crun run:      {launch:.2f}  (target <= 1.5)")
    print(f"in-process launch / crun, no cgroup: {strict:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
