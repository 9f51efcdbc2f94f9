"""Run the engine on a fixture case the way the CLI would, for one rule."""

from __future__ import annotations

from pathlib import Path

import yaml

from secpolicy import catalog, config
from secpolicy.engine import Engine, LintOptions
from secpolicy.model import Finding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def lint_case(case: Path, rule: str) -> list[Finding]:
    """Lint ``case/Dockerfile`` for ``rule`` only; call with the case as cwd."""
    opts = yaml.safe_load((case / "options.yaml").read_text()) if (case / "options.yaml").exists() else {}
    cfg_path = case / "secpolicy.yaml"
    cfg = config.load(cfg_path) if cfg_path.exists() else config.Config()
    options = LintOptions(
        build_args=opts.get("build_args", {}),
        target=opts.get("target"),
        select=[rule],
        config=cfg,
    )
    engine = Engine(catalog.load(), options)
    return engine.read_and_lint(case / "Dockerfile", "Dockerfile").findings


def render(findings: list[Finding]) -> list[str]:
    return [f"{f.rule} {f.line}:{f.column} {f.message}" + (" (suppressed)" if f.suppressed else "") for f in findings]


def cases() -> list[tuple[str, str, Path]]:
    out = []
    for rule_dir in sorted(p for p in FIXTURES.iterdir() if p.is_dir()):
        for kind in ("bad", "good"):
            for case in sorted((rule_dir / kind).glob("*/")):
                out.append((rule_dir.name, kind, case))
    return out
