"""The rule catalog: one YAML file per rule in ``rules/``.

A rule is metadata (id, slug, severity, docs, aliases) plus the name of a
check and its parameters.  The catalog ships inside the wheel as
``secpolicy/_rules``; in a source checkout it is the top-level ``rules/``.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secpolicy.model import Severity
from secpolicy.targets import Kind

_ID = re.compile(r"^[A-Z][A-Z0-9]*[0-9]{3}$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# "any" is for the findings the engine itself reports (SP001, SP002)
TARGETS = frozenset({*(k.value for k in Kind), "any"})
PROFILES = frozenset({"default", "pss-baseline", "pss-restricted"})
DOC_SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## How to suppress")
_REQUIRED = ("id", "slug", "title", "target", "severity", "security-severity", "profiles", "check", "docs")
_OPTIONAL = ("params", "aliases", "cwe", "precision")
PRECISIONS = ("very-high", "high", "medium", "low")  # SARIF's, as GitHub sorts results by it


class CatalogError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    id: str
    slug: str
    title: str
    target: str
    severity: Severity
    security_severity: float
    profiles: tuple[str, ...]
    check: str
    docs: str
    params: Mapping[str, Any] = field(default_factory=dict)  # as written in the rule file
    aliases: tuple[str, ...] = ()
    cwe: tuple[int, ...] = ()  # the weaknesses it finds; a rule with none is not a security rule (SP001)
    precision: str = "high"
    source: Path | None = None
    settings: Any = None  # ``params`` validated into the check's params dataclass, defaults filled in

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "slug": self.slug,
            "title": self.title,
            "target": self.target,
            "severity": self.severity.label,
            "security-severity": self.security_severity,
            "profiles": list(self.profiles),
            "check": self.check,
            "params": dict(self.params),
            "aliases": list(self.aliases),
            "cwe": list(self.cwe),
            "precision": self.precision,
        }


def builtin_dir() -> Path:
    packaged = Path(__file__).parent / "_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _typed_params(params_type: type, raw: Mapping[str, Any], fail: Any) -> Any:
    """``raw`` (YAML keys, kebab-case) into ``params_type``: unknown keys, wrong types and missing values are errors."""
    hints = typing.get_type_hints(params_type)
    fields = {f.name: f for f in dataclasses.fields(params_type)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = str(key).replace("-", "_")
        if name not in fields:
            known = ", ".join(sorted(n.replace("_", "-") for n in fields)) or "none"
            raise fail(f"params.{key}", f"unknown parameter (this check takes: {known})")
        values[name] = _coerce(hints[name], value, lambda why, k=key: fail(f"params.{k}", why))
    for name, spec in fields.items():
        missing = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if missing and name not in values:
            raise fail(f"params.{name.replace('_', '-')}", "is required")
    try:
        return params_type(**values)
    except ValueError as exc:  # a params type's own validation
        raise fail("params", str(exc)) from None


def _coerce(hint: Any, value: Any, fail: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item, _) = typing.get_args(hint)
        if not isinstance(value, list):
            raise fail(f"must be a list of {item.__name__}")
        return tuple(_coerce(item, v, fail) for v in value)
    if hint is bool or hint is str:
        if not isinstance(value, hint):
            raise fail(f"must be a {hint.__name__}, not {type(value).__name__}")
        return value
    if hint in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (hint is int and not isinstance(value, int))
        ):
            raise fail(f"must be a number ({hint.__name__})")
        return hint(value)
    raise fail(f"unsupported parameter type {hint!r}")


def load_rule(path: Path, known_checks: Mapping[str, Any]) -> Rule:
    """``known_checks``: check name -> CheckDef (None for the engine's own SP001/SP002)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a SafeLoader either way
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read rule file: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: a rule file must be a mapping")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise CatalogError(f"{path}: missing key(s): {', '.join(missing)}")
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogError(f"{path}: unknown key(s): {', '.join(unknown)}")

    def fail(key: str, why: str) -> CatalogError:
        return CatalogError(f"{path}: {key}: {why}")

    rid, slug = data["id"], data["slug"]
    if not isinstance(rid, str) or not _ID.match(rid):
        raise fail("id", f"{rid!r} is not like DF101")
    if path.stem != rid:
        raise fail("id", f"{rid} must live in {rid}.yaml")
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise fail("slug", f"{slug!r} is not kebab-case")
    if data["target"] not in TARGETS:
        raise fail("target", f"must be one of {sorted(TARGETS)}")
    try:
        severity = Severity.parse(str(data["severity"]))
    except ValueError as exc:
        raise fail("severity", str(exc)) from None
    score = data["security-severity"]
    if not isinstance(score, int | float) or not 0 <= score <= 10:
        raise fail("security-severity", "must be a number from 0.0 to 10.0")
    profiles = data["profiles"]
    if not isinstance(profiles, list) or not set(profiles) <= PROFILES:
        raise fail("profiles", f"must be a list drawn from {sorted(PROFILES)}")
    if data["check"] not in known_checks:
        raise fail("check", f"unknown check {data['check']!r}")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise fail("params", "must be a mapping")
    check_def = known_checks.get(data["check"])
    settings = None
    if check_def is not None:
        kinds = sorted(k.value for k in check_def.kinds)
        if data["target"] not in kinds:
            raise fail("target", f"{data['target']!r} is not a kind check {data['check']} judges ({', '.join(kinds)})")
        settings = _typed_params(check_def.params, params, fail)
    elif params:
        raise fail("params", f"{data['check']} takes no parameters")
    aliases = data.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and ":" in a for a in aliases):
        raise fail("aliases", "must be a list of 'tool:ID' strings")
    cwe = data.get("cwe") or []
    if not isinstance(cwe, list) or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cwe):
        raise fail("cwe", "must be a list of CWE numbers, e.g. [250]")
    precision = data.get("precision", "high")
    if precision not in PRECISIONS:
        raise fail("precision", f"must be one of {', '.join(PRECISIONS)}")
    docs = data["docs"]
    if not isinstance(docs, str) or not all(s in docs for s in DOC_SECTIONS):
        raise fail("docs", f"must contain the sections {', '.join(DOC_SECTIONS)}")
    return Rule(
        id=rid,
        slug=slug,
        title=str(data["title"]),
        target=data["target"],
        severity=severity,
        security_severity=float(score),
        profiles=tuple(profiles),
        check=data["check"],
        docs=docs.strip() + "\n",
        params=params,
        aliases=tuple(aliases),
        cwe=tuple(cwe),
        precision=precision,
        source=path,
        settings=settings,
    )


def load(directory: Path | None = None) -> dict[str, Rule]:
    from secpolicy.checks import CHECKS, ENGINE_CHECKS

    directory = directory or builtin_dir()
    known: dict[str, Any] = {**dict.fromkeys(ENGINE_CHECKS), **CHECKS}
    rules: dict[str, Rule] = {}
    slugs: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        rule = load_rule(path, known)
        if rule.slug in slugs:
            raise CatalogError(f"{path}: slug {rule.slug!r} is already used by {slugs[rule.slug]}")
        slugs[rule.slug] = rule.id
        rules[rule.id] = rule
    if not rules:
        raise CatalogError(f"no rule files found in {directory}")
    return rules


def configured(rules: Mapping[str, Rule], cfg: Any) -> dict[str, Rule]:
    """The catalog as a config file shapes it: its rule-dirs' rules added, its per-rule severity and params applied.

    A rule id the config names that no catalog has is an error with the
    config's line, as is a parameter its check does not take.
    """
    from dataclasses import replace

    from secpolicy.checks import CHECKS

    out = dict(rules)
    for directory in cfg.rule_dirs:
        for rule_id, rule in load(directory).items():
            if rule_id in out:
                raise CatalogError(f"{rule.source}: {rule_id} is already a rule (ids of added rules must be new)")
            out[rule_id] = rule
    for index, exception in enumerate(cfg.exceptions):
        for position, rule_id in enumerate(exception.rules):
            if rule_id not in out:
                where = f"{cfg.where(exception.line)}: exceptions[{index}].rules[{position}]"
                raise CatalogError(f"{where}: unknown rule {rule_id} (see 'secpolicy rules')")
    for rule_id, setting in cfg.rules.items():
        where = f"{cfg.where(setting.line)}: rules.{rule_id}"
        found = out.get(rule_id)
        if found is None:
            raise CatalogError(f"{where}: unknown rule (see 'secpolicy rules')")
        rule = found
        if setting.severity is not None:
            rule = replace(rule, severity=Severity.parse(setting.severity))
        if setting.params is not None:
            check = CHECKS.get(rule.check)
            if check is None:
                raise CatalogError(f"{where}.params: {rule_id} takes no parameters")

            def fail(key: str, why: str, where: str = where) -> CatalogError:
                return CatalogError(f"{where}.{key}: {why}")

            merged = {**rule.params, **setting.params}
            rule = replace(rule, params=merged, settings=_typed_params(check.params, merged, fail))
        out[rule_id] = rule
    return out


def find(rules: Mapping[str, Rule], key: str) -> Rule | None:
    """Look a rule up by id (any case) or slug."""
    upper = key.upper()
    if upper in rules:
        return rules[upper]
    for rule in rules.values():
        if rule.slug == key.lower():
            return rule
    return None
