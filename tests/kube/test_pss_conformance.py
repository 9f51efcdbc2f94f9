"""Every pod-security-admission fixture: lint with its level's profile and its version, get PSA's verdict.

``<level>/<version>/pass/*.yaml`` gives no PSS finding; ``fail/*.yaml`` gives
at least one, from the rule of the control the fixture is filed under (or,
under restricted, of the restricted control that replaces it at that
version, as PSA's registry does).  One test, every disagreement reported.
"""

from __future__ import annotations

import re
from collections import Counter

from conftest import shared_dir

from secpolicy import catalog
from secpolicy.engine import Engine, LintOptions
from secpolicy.kube import pss

RULES = catalog.load()
# the substring PSA's own harness expects in the error for each fixture's check
# (test/fixtures_<check>.go expectErrorSubstring at v0.36.2; the check id where none is set)
PSA_SUBSTRING = {
    "appArmorProfile": "forbidden AppArmor profile",
    "capabilities_baseline": "capabilities",
    "capabilities_restricted": "unrestricted capabilities",
    "hostNamespaces": "host namespaces",
    "hostPathVolumes": "hostPath",
    "hostPorts": "hostPort",
    "hostProbesAndHostLifecycle": "probe or lifecycle host",
    "procMount": "procMount",
    "procMount_restricted": "procMount",
    "restrictedVolumes": "restricted volume types",
    "seLinuxOptions": "seLinuxOptions",
    "seccompProfile_baseline": "seccompProfile",
    "seccompProfile_restricted": "seccompProfile",
    "sysctls": "forbidden sysctl",
    "windowsHostProcess": "hostProcess",
}
CONTROL_RULE = {r.settings.control: r.id for r in RULES.values() if r.check == "pss.control"}


def _expected_rules(stem: str, level: str, version: pss.Version) -> set[str]:
    control = next(c for c in pss.CONTROLS if c.lower() == stem)
    wanted = {CONTROL_RULE[control]}
    if level == "restricted":
        for other in pss.CONTROLS.values():
            for versioned in other.versions:
                if control in versioned.overrides and versioned.minimum <= version.minor:
                    wanted.add(CONTROL_RULE[other.id])
    return wanted


def test_every_psa_fixture_gets_psa_verdict() -> None:
    root = shared_dir("conformance", "pod-security", "testdata")
    engines: dict[tuple[str, str], Engine] = {}
    disagreements: list[str] = []
    counted: Counter[str] = Counter()
    for path in sorted(root.rglob("*.yaml")):
        level, version_text, verdict = path.parts[-4], path.parts[-3], path.parts[-2]
        key = (level, version_text)
        if key not in engines:
            options = LintOptions(profile=f"pss-{level}", pss_version=pss.parse_version(version_text))
            engines[key] = Engine(RULES, options)
        result = engines[key].read_and_lint(path, str(path.relative_to(root)))
        counted[verdict] += 1
        errors = [f for f in result.findings if f.rule.startswith("SP")]
        fired = {f.rule for f in result.findings if f.rule.startswith("K8S")}
        where = path.relative_to(root)
        if errors:
            disagreements.append(f"{where}: {errors[0].rule} {errors[0].message}")
        elif verdict == "pass" and fired:
            disagreements.append(f"{where}: PSA allows it, secpolicy reports {sorted(fired)}")
        elif verdict == "fail":
            stem = re.sub(r"[0-9]+$", "", path.stem)
            wanted = _expected_rules(stem, level, pss.parse_version(version_text))
            control = next(c for c in pss.CONTROLS if c.lower() == stem)
            substring = PSA_SUBSTRING.get(control, control)
            messages = [f.message for f in result.findings if f.rule in wanted]
            if not fired & wanted:
                disagreements.append(
                    f"{where}: PSA rejects it ({stem}), secpolicy reports {sorted(fired) or 'nothing'}"
                )
            elif not any(substring in m for m in messages):
                disagreements.append(f"{where}: no message holds PSA's {substring!r}: {messages}")
    assert not disagreements, f"{len(disagreements)} disagreements:\n" + "\n".join(disagreements)
    # the whole corpus, not a sample: v0.36.2 ships 4,241 fixtures (and a README)
    assert sum(counted.values()) == len(list(root.rglob("*.yaml"))) == 4241
    assert counted["pass"]
    assert counted["fail"]


def test_versions_and_levels_follow_psa_registry() -> None:
    # restricted replaces baseline controls only from the version the replacement exists
    assert "capabilities_baseline" in pss.active("restricted", 21)
    assert "capabilities_baseline" not in pss.active("restricted", 22)
    assert "seccompProfile_baseline" in pss.active("restricted", 18)
    assert "seccompProfile_baseline" not in pss.active("restricted", 19)
    assert "procMount" in pss.active("restricted", 34)
    assert "procMount" not in pss.active("restricted", 35)
    assert "hostPathVolumes" not in pss.active("restricted", 0)
    assert "allowPrivilegeEscalation" not in pss.active("restricted", 7)
    assert "hostProbesAndHostLifecycle" not in pss.active("baseline", 33)
    assert set(pss.active("baseline", 35)) == {c.id for c in pss.controls_of("baseline")}
    # newer versions clamp to the newest, as PSA's EvaluatePod does
    assert pss.parse_version("v1.99") == pss.parse_version("latest") == pss.Version(pss.NEWEST)
    assert pss.parse_version("1.30") == pss.Version(30)
    for bad in ("v2.0", "1.x", "v1.030", "", "latest2"):
        try:
            pss.parse_version(bad)
        except pss.VersionError:
            continue
        raise AssertionError(f"{bad!r} accepted")


def test_control_ids_kept_in_step() -> None:
    from secpolicy.kube.versions import CONTROL_IDS

    assert set(pss.CONTROLS) == CONTROL_IDS
    assert set(CONTROL_RULE) == CONTROL_IDS  # one rule per control
