"""Benchmark: secpolicy against ``checkov --framework kubernetes`` on manifests, and linear growth.

Usage: python bench/kube.py [--files N] [--repeat R]   (run by bench/run.py after the Dockerfile section)

Builds ``bench/kube-corpus/``: the 4,241 pod-security-admission fixtures of
../shared/conformance (when present) and N generated multi-document workload
files (Deployments, StatefulSets, DaemonSets, CronJobs, Jobs and Services in
one stream, with and without securityContext).  Times both tools on the same
tree in one run (best of R) and prints the ratio; then times secpolicy on the
generated files alone at 1x and 4x and prints the growth, which must stay
near 4 (linear).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

from run import best_of  # the same timing as the Dockerfile section (bench/ is on sys.path when run)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "kube-corpus"
PEERS = HERE / ".venv"
PSA = ROOT.parent / "shared" / "conformance" / "pod-security" / "testdata"

CONTAINER = """      - name: {name}
        image: {image}
        ports:
        - containerPort: {port}
{security}        resources:
          limits: {{cpu: 500m, memory: 256Mi}}
"""
SECURITY = [
    "",
    "        securityContext:\n          privileged: true\n",
    "        securityContext:\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n"
    "          capabilities: {drop: [ALL]}\n",
    "        securityContext:\n          runAsUser: 0\n          capabilities: {add: [NET_ADMIN, SYS_TIME]}\n",
]
KINDS = [("apps/v1", "Deployment"), ("apps/v1", "StatefulSet"), ("apps/v1", "DaemonSet"), ("batch/v1", "Job")]


def _workload(rng: random.Random, index: int, doc: int) -> str:
    api, kind = rng.choice(KINDS)
    containers = "".join(
        CONTAINER.format(
            name=f"c{i}",
            image=rng.choice(["nginx:1.27", "ghcr.io/acme/api:1.4", "redis:7", "busybox:1.36"]),
            port=8000 + i,
            security=rng.choice(SECURITY),
        )
        for i in range(rng.randint(1, 3))
    )
    pod_sc = rng.choice(["", "      securityContext: {runAsNonRoot: true, runAsUser: 10001}\n"])
    host = rng.choice(["", "      hostNetwork: true\n"])
    return (
        f"apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: w{index}-{doc}\n  labels: {{app: w{index}}}\n"
        f"spec:\n  selector:\n    matchLabels: {{app: w{index}}}\n  template:\n    metadata:\n"
        f"      labels: {{app: w{index}}}\n    spec:\n{pod_sc}{host}      containers:\n{containers}"
    )


def _service(index: int) -> str:
    return f"apiVersion: v1\nkind: Service\nmetadata: {{name: w{index}}}\nspec:\n  ports: [{{port: 80}}]\n"


def generate(directory: Path, total: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(total):
        docs = [_workload(rng, index, d) for d in range(rng.randint(1, 3))] + [_service(index)]
        (directory / f"app{index:05d}.yaml").write_text("---\n".join(docs))


def build(files: int) -> tuple[int, int]:
    shutil.rmtree(CORPUS, ignore_errors=True)
    psa = 0
    if PSA.is_dir():
        shutil.copytree(PSA, CORPUS / "psa")
        psa = len(list((CORPUS / "psa").rglob("*.yaml")))
    generate(CORPUS / "generated", files)
    return psa, files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    secpolicy = str(Path(sys.executable).parent / "secpolicy")
    checkov = PEERS / "bin" / "checkov"
    psa, generated = build(args.files)
    print(f"corpus: {psa} PSA fixtures + {generated} generated multi-document files in {CORPUS.relative_to(ROOT)}")
    report = HERE / ".kube-report.json"  # our own file, never a system path
    lint = [secpolicy, "lint", ".", "--format", "json", "--fail-on", "never", "-o", str(report)]
    results = {"secpolicy": best_of(lint, args.repeat, CORPUS)}
    if checkov.exists():
        cmd = [str(checkov), "-d", ".", "--framework", "kubernetes", "-o", "json", "--quiet", "--soft-fail"]
        results["checkov"] = best_of([*cmd, "--skip-download"], max(1, min(args.repeat, 2)), CORPUS)
    else:
        print("checkov not installed in bench/.venv (bash dev.sh bench installs it): ratio not measured")
    base = results["secpolicy"]
    print(f"{'tool':<10} {'wall s':>8} {'ratio vs secpolicy':>20}   (target: checkov >= 10x)")
    for tool, seconds in results.items():
        print(f"{tool:<10} {seconds:8.2f} {seconds / base:19.1f}x")

    # linear growth: the generated files alone at 1x and 4x
    growth = {}
    for factor in (1, 4):
        directory = CORPUS / f"growth{factor}"
        generate(directory, args.files * factor)
        growth[factor] = best_of([*lint[:2], str(directory), *lint[3:]], args.repeat, CORPUS)
    ratio = growth[4] / growth[1]
    print(
        f"growth: {args.files} files {growth[1]:.2f} s, {4 * args.files} files {growth[4]:.2f} s: {ratio:.2f}x for 4x"
    )
    report.unlink(missing_ok=True)
    return 0 if ratio <= 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
