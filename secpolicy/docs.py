"""Rule documentation, generated from the rule files (``docs/rules/``).

``python -m secpolicy.docs`` rewrites ``docs/rules``; ``--check`` fails when
the committed pages differ from what the catalog generates.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from secpolicy.catalog import Rule


def render(rule: Rule) -> str:
    aliases = ", ".join(f"`{a}`" for a in rule.aliases) or "none"
    params = ", ".join(f"`{k}`: `{v}`" for k, v in rule.params.items()) or "none"
    cwe = (
        ", ".join(f"[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html)" for n in rule.cwe)
        or "none (not a security finding)"
    )
    head = [
        f"# {rule.id} `{rule.slug}`: {rule.title}",
        "",
        "| | |",
        "|---|---|",
        f"| Severity | {rule.severity.label} (security-severity {rule.security_severity}) |",
        f"| Applies to | {rule.target} |",
        f"| Profiles | {', '.join(rule.profiles)} |",
        f"| Check | `{rule.check}` |",
        f"| Parameters | {params} |",
        f"| Same as | {aliases} |",
        f"| Weakness | {cwe} |",
        f"| Precision | {rule.precision} |",
        "",
    ]
    return "\n".join(head) + "\n" + rule.docs


def index(rules: Mapping[str, Rule]) -> str:
    lines = [
        "# Rules",
        "",
        "Generated from `rules/*.yaml` by `python -m secpolicy.docs`; do not edit by hand.",
        "",
        "| ID | Slug | Severity | Title |",
        "|---|---|---|---|",
    ]
    for rule in rules.values():
        lines.append(f"| [{rule.id}]({rule.id}.md) | `{rule.slug}` | {rule.severity.label} | {rule.title} |")
    return "\n".join(lines) + "\n"


def pages(rules: Mapping[str, Rule]) -> dict[str, str]:
    out = {f"{rid}.md": render(rule) for rid, rule in rules.items()}
    out["README.md"] = index(rules)
    return out


def main(argv: list[str] | None = None) -> int:
    from secpolicy import catalog

    parser = argparse.ArgumentParser(prog="python -m secpolicy.docs", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/rules"))
    parser.add_argument("--check", action="store_true", help="fail if the pages are stale")
    args = parser.parse_args(argv)
    wanted = pages(catalog.load())
    if args.check:
        existing = {p.name for p in args.out.glob("*.md")} if args.out.is_dir() else set()
        stale = sorted(
            name
            for name, text in wanted.items()
            if not (args.out / name).is_file() or (args.out / name).read_text(encoding="utf-8") != text
        )
        extra = sorted(existing - set(wanted))
        for name in stale:
            print(f"stale or missing: {args.out / name}", file=sys.stderr)
        for name in extra:
            print(f"no rule for: {args.out / name}", file=sys.stderr)
        if stale or extra:
            print("run: python -m secpolicy.docs", file=sys.stderr)
            return 1
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in wanted.items():
        (args.out / name).write_text(text, encoding="utf-8")
    for extra in {p.name for p in args.out.glob("*.md")} - set(wanted):
        (args.out / extra).unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
