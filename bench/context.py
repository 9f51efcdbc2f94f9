"""Benchmark: ``secpolicy context ls`` against ``find DIR -type f | wc -l`` on a generated build context.

Usage: python bench/context.py [--files N] [--repeat R]   (run by bench/run.py)

Builds ``bench/context-corpus/``: N files (default 200,000), 90% of them in
a ``node_modules`` tree (the usual share in a Node.js project), a few
secrets, and times in the same run:

* nothing can be pruned (no .dockerignore): secpolicy must stay within 2x of find;
* ``node_modules`` excluded by the .dockerignore: secpolicy must beat find, which
  walks everything, because the excluded tree is never entered.

Two lines are shown for information, without a target: the fixed cost of
starting secpolicy (an empty context), and an excluded tree of only half
the files, where that fixed cost (about half of what find takes for the
whole tree) decides the ratio.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CORPUS = HERE / "context-corpus"


def build(total: int) -> None:
    """node_modules/ holds 90% of the files; vendor/ (half of the files, both trees together) is the 50% case."""
    stamp = f"{total} v3"
    if (CORPUS / ".complete").exists() and (CORPUS / ".complete").read_text() == stamp:
        return
    shutil.rmtree(CORPUS, ignore_errors=True)
    per_dir = 100
    trees = [("node_modules/vendor", total * 45 // 100, "js"), ("node_modules/rest", total * 45 // 100, "js")]
    trees += [("src/vendor", total * 5 // 100, "py"), ("src/rest", total - total * 95 // 100, "py")]
    for base, count, ext in trees:
        for i in range(count):
            d = CORPUS / base / f"pkg{i // per_dir:05d}"
            if i % per_dir == 0:
                d.mkdir(parents=True)
            (d / f"f{i}.{ext}").write_bytes(b"")
    (CORPUS / ".env").write_text("DB_PASSWORD=x\n")
    (CORPUS / "Dockerfile").write_text("FROM python:3.12\nCOPY src /app\nUSER 10001\n")
    (CORPUS / ".complete").write_text(stamp)


def best_of(cmd: list[str], repeat: int, shell: bool = False) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            cmd if not shell else " ".join(cmd), shell=shell, cwd=CORPUS, stdout=subprocess.DEVNULL, check=False
        )
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    build(args.files)
    secpolicy = str(Path(sys.executable).parent / "secpolicy")
    ignore = CORPUS / ".dockerignore"
    ok = True
    print(f"context: {args.files} files in {CORPUS.relative_to(ROOT)} (90% in node_modules)")
    empty = CORPUS.parent / "context-empty"
    empty.mkdir(exist_ok=True)
    start = best_of([secpolicy, "context", "ls", str(empty)], args.repeat)
    print(f"  {'start-up (empty)':<26} secpolicy {start:6.2f} s   (information)")
    cases = (
        ("nothing pruned", None, 2.0),
        ("node_modules excluded", "node_modules\n", 1.0),
        ("half excluded", "*/vendor\n", None),
    )
    for label, lines, target in cases:
        if lines is None:
            ignore.unlink(missing_ok=True)
        else:
            ignore.write_text(lines)
        ours = best_of([secpolicy, "context", "ls", "."], args.repeat)
        find = best_of(["find", ".", "-type", "f", "|", "wc", "-l"], args.repeat, shell=True)  # noqa: S604 - fixed text
        ratio = ours / find
        if target is None:
            verdict = "(information)"
        else:
            ok = ok and ratio <= target
            verdict = f"(target <= {target:.1f})  " + ("ok" if ratio <= target else "OVER TARGET")
        print(f"  {label:<26} secpolicy {ours:6.2f} s   find {find:6.2f} s   ratio {ratio:4.2f} {verdict}")
    ignore.unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
