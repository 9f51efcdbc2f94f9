"""The catalog, the check registry, the fixtures and the generated docs agree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from secpolicy import catalog, docs
from secpolicy.checks import CHECKS, ENGINE_CHECKS

FIXTURES = ROOT / "fixtures"


def test_every_rule_has_bad_and_good_fixtures(rules) -> None:
    assert {p.name for p in FIXTURES.iterdir() if p.is_dir()} == set(rules)
    for rid in rules:
        for kind in ("bad", "good"):
            assert [p for p in (FIXTURES / rid / kind).iterdir() if p.is_dir()], f"{rid} has no {kind} fixture"


def test_every_check_is_used_and_every_rule_check_exists(rules) -> None:
    used = {r.check for r in rules.values()}
    assert used == set(CHECKS) | ENGINE_CHECKS


def test_ids_slugs_unique_and_well_formed(rules) -> None:
    slugs = [r.slug for r in rules.values()]
    assert len(slugs) == len(set(slugs))
    for rule in rules.values():
        assert re.fullmatch(r"(SP|DF|CTX|K8S)\d{3}", rule.id)
        assert rule.source is not None
        assert rule.source.name == f"{rule.id}.yaml"


def test_design_catalog_ids_present(rules) -> None:
    for rid in ("SP001", "SP002", "DF101", "DF102", "DF103", "DF104", "DF201", "DF202", "DF203", "DF301", "DF302"):
        assert rid in rules


def test_generated_docs_are_fresh(rules) -> None:
    wanted = docs.pages(rules)
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs" / "rules").glob("*.md")}
    assert set(committed) == set(wanted), "run: python -m secpolicy.docs"
    for name, text in wanted.items():
        assert committed[name] == text, f"docs/rules/{name} is stale: run python -m secpolicy.docs"


def _dockerfile_example(rules, rule, text: str) -> list[str]:
    from secpolicy.engine import Engine, LintOptions

    engine = Engine(rules, LintOptions(select=[rule.id]))
    return [f.rule for f in engine.lint_text(text, "Dockerfile").findings]


def _manifest_example(rules, rule, text: str) -> list[str]:
    from secpolicy.engine import Engine, LintOptions

    # baseline controls that restricted replaces fire under their own level
    profile = "pss-baseline" if "pss-baseline" in rule.profiles else "default"
    engine = Engine(rules, LintOptions(select=[rule.id], profile=profile))
    return [f.rule for f in engine.lint_manifest(text, "example.yaml").findings]


def _context_example(rules, rule, text: str) -> list[str]:
    """A build context written as lines of ``path  content`` (a Dockerfile's lines separated by " / ")."""
    import tempfile

    from secpolicy.engine import Engine, LintOptions

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for line in text.splitlines():
            name, _, content = line.partition("  ")
            content = content.strip()
            if name == "Dockerfile":
                content = content.replace(" / ", "\n")
            content = content.replace("\\n", "\n")  # a literal \n separates the lines of any other file
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(content + "\n" if content else "")
        engine = Engine(rules, LintOptions(select=[rule.id]))
        return [f.rule for f in engine.read_and_lint(root / "Dockerfile", "Dockerfile").findings]


# how the documented examples of each target kind are run; a kind without a runner fails the test
EXAMPLE_RUNNERS = {
    "dockerfile": ("dockerfile", _dockerfile_example),
    "pod": ("yaml", _manifest_example),
    "container": ("yaml", _manifest_example),
    "context": ("text", _context_example),
}
ENGINE_RULES = {"SP001", "SP002", "SP003"}  # reported by the engine itself: their examples are prose


def test_docs_examples_fire_and_fixes_do_not(rules) -> None:
    """The '## Example' block of each rule fires; '## Use instead' does not, whatever the target kind."""
    for rule in rules.values():
        if rule.id in ENGINE_RULES:
            continue
        assert rule.target in EXAMPLE_RUNNERS, f"{rule.id}: no example runner for target kind {rule.target!r}"
        language, run = EXAMPLE_RUNNERS[rule.target]
        example = _block(rule.docs, "## Example", language)
        fixed = _block(rule.docs, "## Use instead", language)
        assert rule.id in run(rules, rule, example), f"{rule.id}: the documented example does not fire"
        assert rule.id not in run(rules, rule, fixed), f"{rule.id}: the documented fix still fires"


def _block(text: str, heading: str, language: str) -> str:
    section = text.split(heading, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, heading
    return match.group(1)


def test_bad_rule_file_is_rejected(tmp_path) -> None:
    (tmp_path / "DF900.yaml").write_text("id: DF900\nslug: x\n")
    with pytest.raises(catalog.CatalogError, match="missing key"):
        catalog.load(tmp_path)


def test_unknown_check_is_rejected(tmp_path) -> None:
    text = (ROOT / "rules" / "DF102.yaml").read_text().replace("DF102", "DF900").replace("user.named", "user.nope")
    (tmp_path / "DF900.yaml").write_text(text)
    with pytest.raises(catalog.CatalogError, match="unknown check"):
        catalog.load(tmp_path)


def _rule_file(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load((ROOT / "rules" / "DF104.yaml").read_text())
    data.update(changes)
    path = tmp_path / "DF104.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"params": {"tool": ["sudo"]}},
            "params.tool: unknown parameter (this check takes: drop-tools, switch-to-root, tools)",
        ),
        ({"params": {"tools": "sudo"}}, "params.tools: must be a list of str"),
        ({"params": {"tools": [1]}}, "params.tools: must be a str, not int"),
        ({"target": "container"}, "target: 'container' is not a kind check run.privilege_tool judges (dockerfile)"),
        ({"check": "user.root", "params": {"x": 1}}, "params.x: unknown parameter (this check takes: none)"),
    ],
)
def test_rule_params_are_typed_and_kinds_checked(tmp_path: Path, changes: dict[str, object], message: str) -> None:
    from secpolicy.catalog import CatalogError, load_rule
    from secpolicy.checks import CHECKS

    with pytest.raises(CatalogError) as info:
        load_rule(_rule_file(tmp_path, **changes), CHECKS)
    assert str(info.value) == f"{tmp_path / 'DF104.yaml'}: {message}"


def test_params_defaults_live_in_the_params_class(tmp_path: Path) -> None:
    from secpolicy.catalog import load_rule
    from secpolicy.checks import CHECKS

    rule = load_rule(_rule_file(tmp_path, params={"tools": ["sudo"]}), CHECKS)
    assert rule.settings.tools == ("sudo",)
    assert rule.settings.drop_tools == ("gosu", "su-exec")


def test_rule_ids_allow_digits_in_the_prefix(tmp_path: Path) -> None:
    from secpolicy.catalog import load_rule
    from secpolicy.checks import CHECKS

    data = yaml.safe_load((ROOT / "rules" / "DF101.yaml").read_text())
    data["id"] = "K8S201"
    data["slug"] = "k8s-root"
    path = tmp_path / "K8S201.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_rule(path, CHECKS).id == "K8S201"
