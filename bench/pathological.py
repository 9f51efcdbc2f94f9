"""Pathological inputs (Dockerfiles and manifests): time per input at 1x and 4x size, and the growth ratio.

Usage: bash dev.sh bench --pathological [--timeout S]
   or: .venv/bin/python bench/pathological.py [--timeout S] [--only NAME]

Each input is linted in a fresh child process (``secpolicy lint FILE -f json
-o REPORT``); the child times the lint itself, so interpreter start-up is not
counted.  Linear code grows about 4x from the 1x to the 4x input; the target
is a ratio of at most 5.  A crash or a time-out is reported as such.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

MAX_RATIO = 5.0


def long_continuation(n: int) -> str:
    return "FROM alpine:3.20\nRUN true \\\n" + "".join(f"    && echo line{i} \\\n" for i in range(n)) + "    && true\n"


def many_findings(n: int) -> str:
    return "FROM alpine:3.20\nUSER 10001\n" + "".join(f"RUN sudo echo {i}\n" for i in range(n))


def many_findings_one_run(n: int) -> str:
    return (
        "FROM alpine:3.20\nUSER 10001\nRUN true \\\n"
        + "".join(f"  && sudo echo {i} \\\n" for i in range(n))
        + "  && true\n"
    )


def nested_command_substitution(n: int) -> str:
    return "FROM alpine:3.20\nUSER 10001\nRUN echo " + "$(" * n + "sudo id" + ")" * n + "\n"


def nested_default_in_user(n: int) -> str:
    return "FROM alpine:3.20\nUSER " + "${A:-" * n + "1000" + "}" * n + "\n"


def nested_onbuild(n: int) -> str:
    return "FROM alpine:3.20\n" + "ONBUILD " * n + "RUN true\n"


def nested_json(n: int) -> str:
    return "FROM alpine:3.20\nUSER 10001\nCMD " + "[" * n + "]" * n + "\n"


def huge_user_number(n: int) -> str:
    return "FROM alpine:3.20\nUSER " + "1" * n + "\n"


def url_like_env(n: int) -> str:
    return "FROM alpine:3.20\nUSER 10001\nENV X=" + "a." * n + "\n"


def syntax_directive_spaces(n: int) -> str:
    return "# syntax=a" + " " * n + "b\nFROM alpine:3.20\nUSER 10001\n"


def suppression_spaces(n: int) -> str:
    return "FROM alpine:3.20\n# secpolicy: ignore=DF101" + " " * n + "x\nUSER 0\n"


def replace_all(n: int) -> str:
    return "FROM alpine:3.20\nARG X=" + "a" * n + "\nENV Y=${X//a/b}\nUSER 10001\n"


def trim_longest(n: int) -> str:
    return "FROM alpine:3.20\nARG X=" + "ab" * n + "\nENV Y=${X##*a*b}\nUSER 10001\n"


def heredoc_commands(n: int) -> str:
    return "FROM alpine:3.20\nUSER 10001\nRUN <<EOF\n" + "".join(f"sudo echo {i}\n" for i in range(n)) + "EOF\n"


def stage_chain(n: int) -> str:
    lines = ["FROM alpine:3.20 AS s0"]
    for i in range(1, n):
        lines += [f"FROM s{i - 1} AS s{i}", f"ENV V{i}=x{i}"]
    return "\n".join([*lines, "USER 10001", ""])


def comment_block_findings(n: int) -> str:
    return "FROM alpine:3.20\nUSER 10001\n" + "# note\n" * n + "RUN true" + " && sudo x" * n + "\n"


def four_mib_file(n: int) -> str:
    # n KiB of ENV and RUN lines, just under the size limit at 4x
    head = "FROM alpine:3.20\nUSER 10001\n"
    lines = [head]
    size = len(head)
    i = 0
    while size < n * 1024 - 100:
        line = f"ENV KEY_{i}=value-{i}-" + "x" * 40 + "\n" if i % 2 else f"RUN echo step {i} && true\n"
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines)


_POD_HEAD = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
_CONTAINER = "  - name: c{i}\n    image: nginx:1.27\n    securityContext: {{privileged: true}}\n"


def many_containers(n: int) -> str:
    return _POD_HEAD + "".join(_CONTAINER.format(i=i) for i in range(n))


def many_containers_suppressed(n: int) -> str:
    return _POD_HEAD + "".join("  # secpolicy: ignore=K8S002 reason=lab\n" + _CONTAINER.format(i=i) for i in range(n))


def many_broken_documents(n: int) -> str:
    return "".join(f"---\nmetadata: {{name: p{i}\n" for i in range(n)) + "---\n" + many_containers(1)


def many_documents(n: int) -> str:
    return "".join("---\n" + many_containers(1).replace("name: p}", f"name: p{i}}}") for i in range(n))


def many_aliases(n: int) -> str:
    head = "x-sc: &sc {privileged: true, runAsUser: 0}\n" + _POD_HEAD
    return head + "".join(f"  - name: c{i}\n    image: nginx\n    securityContext: *sc\n" for i in range(n))


def flow_sequence(n: int) -> str:
    return (
        _POD_HEAD.replace("  containers:\n", "  containers: [")
        + ", ".join(f"{{name: c{i}, image: x}}" for i in range(n))
        + "]\n"
    )


# inputs that are manifests rather than Dockerfiles
MANIFESTS = {"many containers", "containers + pragmas", "broken documents", "documents", "aliases", "flow seq"}

INPUTS: dict[str, tuple[Callable[[int], str], int]] = {
    "many containers": (many_containers, 2_500),
    "containers + pragmas": (many_containers_suppressed, 2_500),
    "broken documents": (many_broken_documents, 10_000),
    "documents": (many_documents, 2_000),
    "aliases": (many_aliases, 2_500),
    "flow seq": (flow_sequence, 10_000),
    "long continuation (lines)": (long_continuation, 10_000),
    "many findings (RUN sudo lines)": (many_findings, 5_000),
    "many findings in one RUN": (many_findings_one_run, 5_000),
    "comment block + findings": (comment_block_findings, 2_000),
    "nested $( in RUN": (nested_command_substitution, 250),
    "nested ${A:- in USER": (nested_default_in_user, 330),
    "nested ONBUILD": (nested_onbuild, 1_000),
    "nested JSON CMD": (nested_json, 1_000),
    "USER of N digits": (huge_user_number, 5_000),
    "ENV a.a.a... (URL pattern)": (url_like_env, 25_000),
    "# syntax= with spaces": (syntax_directive_spaces, 20_000),
    "suppression with spaces": (suppression_spaces, 20_000),
    "${X//a/b} on a long X": (replace_all, 20_000),
    "${X##*a*b} on a long X": (trim_longest, 10_000),
    "heredoc of N commands": (heredoc_commands, 5_000),
    "stage chain (stages)": (stage_chain, 2_000),
    "1 MiB / 4 MiB file (KiB)": (four_mib_file, 1_020),
}

_CHILD = """
import sys, time
from secpolicy.cli import main
start = time.perf_counter()
code = main(["lint", sys.argv[1], "--format", "json", "--fail-on", "never", "-o", sys.argv[2]])
print(f"{time.perf_counter() - start:.6f} {code}")
"""


def measure(text: str, timeout: float, workdir: Path, name: str = "Dockerfile") -> tuple[float | None, str]:
    dockerfile = workdir / name
    report = workdir / "report.json"
    dockerfile.write_text(text, encoding="utf-8")
    report.unlink(missing_ok=True)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(dockerfile), str(report)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    if proc.returncode != 0 or not proc.stdout.strip():
        return None, f"crashed (exit {proc.returncode}): {proc.stderr.strip()[-200:]}"
    seconds, code = proc.stdout.split()
    try:
        doc = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return float(seconds), f"exit {code}, no report"
    rules = sorted({f["rule"] for f in doc["findings"]})
    internal = [f["message"] for f in doc["findings"] if "internal error" in f["message"]]
    note = f"exit {code}, rules {','.join(rules) or '-'}"
    if internal:
        note += f"; {internal[0][:120]}"
    return float(seconds), note


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per input (default 120)")
    parser.add_argument("--only", help="run the inputs whose name contains this text")
    args = parser.parse_args()
    failed = False
    print(f"{'input':<32} {'size 1x':>9} {'1x s':>8} {'4x s':>8} {'ratio':>6}  result")
    with tempfile.TemporaryDirectory(prefix="secpolicy-patho-") as tmp:
        work = Path(tmp)
        for name, (make, size) in INPUTS.items():
            if args.only and args.only not in name:
                continue
            file_name = "manifest.yaml" if name in MANIFESTS else "Dockerfile"
            small, note_small = measure(make(size), args.timeout, work, file_name)
            big, note_big = measure(make(size * 4), args.timeout, work, file_name)
            if small is None or big is None:
                failed = True
                shown_small = f"{small:8.3f}" if small is not None else f"{'-':>8}"
                shown_big = f"{big:8.3f}" if big is not None else f"{'-':>8}"
                print(f"{name:<32} {size:>9} {shown_small} {shown_big} {'-':>6}  {note_small} | {note_big}")
                continue
            ratio = big / small if small > 0 else float("inf")
            failed = failed or ratio > MAX_RATIO
            flag = "" if ratio <= MAX_RATIO else "  OVER TARGET"
            print(f"{name:<32} {size:>9} {small:8.3f} {big:8.3f} {ratio:6.1f}  {note_big}{flag}")
    print(f"target: every input lints without a crash and grows by at most {MAX_RATIO:.0f}x from 1x to 4x")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
