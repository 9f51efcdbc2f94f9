"""Run the engine on a fixture case the way the CLI would, for one rule."""

from __future__ import annotations

from pathlib import Path

import yaml

from secpolicy import catalog, config
from secpolicy.engine import Engine, LintOptions
from secpolicy.kube.pss import parse_version
from secpolicy.model import Finding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


CASE_FILES = ("Dockerfile", "manifest.yaml", "manifest.json")


def case_file(case: Path) -> Path:
    """The file a fixture case lints: its Dockerfile or its manifest."""
    for name in CASE_FILES:
        if (case / name).exists():
            return case / name
    raise FileNotFoundError(f"{case}: no {', '.join(CASE_FILES)}")


def lint_case(case: Path, rule: str) -> list[Finding]:
    """Lint the case's file for ``rule`` only (options.yaml: build_args, target, profile, pss_version); cwd = case."""
    opts = yaml.safe_load((case / "options.yaml").read_text()) if (case / "options.yaml").exists() else {}
    cfg_path = case / "secpolicy.yaml"
    cfg = config.load(cfg_path) if cfg_path.exists() else config.Config()
    options = LintOptions(
        build_args=opts.get("build_args", {}),
        target=opts.get("target"),
        select=[rule],
        config=cfg,
        profile=opts.get("profile", "default"),
        pss_version=parse_version(opts.get("pss_version", "latest")),
    )
    engine = Engine(catalog.load(), options)
    path = case_file(case)
    return engine.read_and_lint(path, path.name).findings


def render(findings: list[Finding]) -> list[str]:
    return [
        f"{f.rule} {f.line}:{f.column}"
        + (f" {f.field}" if f.field else "")
        + f" {f.message}"
        + (" (suppressed)" if f.suppressed else "")
        for f in findings
    ]


def cases() -> list[tuple[str, str, Path]]:
    out = []
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for kind in ("bad", "good"):
            for case in sorted((rule_dir / kind).glob("*/")):
                out.append((rule_dir.name, kind, case))
    return out
