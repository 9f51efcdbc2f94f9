"""Suppressions in manifests: YAML comments above a node, annotations on the object, the template, a container."""

from __future__ import annotations

from secpolicy import catalog
from secpolicy.engine import Engine, LintOptions
from secpolicy.model import Finding

RULES = catalog.load()


def lint(text: str, *rules: str) -> list[Finding]:
    return Engine(RULES, LintOptions(select=list(rules) or ["K8S", "SP"])).lint_manifest(text, "m.yaml").findings


def state(findings: list[Finding], rule: str) -> list[tuple[str | None, bool, str | None]]:
    return [(f.target, f.suppressed, f.suppression) for f in findings if f.rule == rule]


DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
{annotations}spec:
  template:
{template_meta}    spec:
      containers:
      - name: app
        image: nginx:1.27
        securityContext:
          privileged: true
      - name: sidecar
        image: envoy:1.30
        securityContext:
          privileged: true
"""


def deploy(annotations: str = "", template_meta: str = "") -> str:
    return DEPLOY.format(annotations=annotations, template_meta=template_meta)


def test_comment_above_a_field() -> None:
    text = deploy().replace(
        "        securityContext:\n          privileged: true\n      - name: sidecar",
        "        securityContext:\n          # secpolicy: ignore=K8S002 reason=needs /dev/fuse\n          privileged: true\n      - name: sidecar",
    )
    assert state(lint(text, "K8S002"), "K8S002") == [
        ("Deployment/api", True, "needs /dev/fuse"),
        ("Deployment/api", False, None),
    ]


def test_comment_above_a_container_covers_its_findings_only() -> None:
    text = deploy().replace(
        "      - name: sidecar", "      # secpolicy: ignore=K8S002,K8S203 reason=mesh proxy\n      - name: sidecar"
    )
    findings = lint(text, "K8S002", "K8S203")
    assert [s for _, s, _ in state(findings, "K8S002")] == [False, True]
    assert [(f.target, f.suppressed) for f in findings if f.rule == "K8S203"] == [
        ("Deployment/api container app", False),
        ("Deployment/api container sidecar", True),
    ]


def test_comment_above_the_object_and_ignore_file() -> None:
    text = "# secpolicy: ignore=K8S002 reason=lab cluster\n---\n" + deploy()
    assert all(s for _, s, _ in state(lint(text, "K8S002"), "K8S002"))
    text = "# secpolicy: ignore-file=K8S002 reason=lab cluster\n" + deploy()
    assert all(s for _, s, _ in state(lint(text, "K8S002"), "K8S002"))


def test_comment_inside_a_block_scalar_is_text() -> None:
    text = deploy(annotations="  annotations:\n    note: |\n      # secpolicy: ignore=K8S002 reason=not a comment\n")
    findings = lint(text, "K8S002", "SP002")
    assert [s for _, s, _ in state(findings, "K8S002")] == [False, False]


def test_annotation_on_object_template_and_container() -> None:
    on_object = deploy(annotations='  annotations:\n    secpolicy.dev/ignore: "K8S002: lab cluster"\n')
    assert [s for _, s, _ in state(lint(on_object, "K8S002"), "K8S002")] == [True, True]
    on_template = deploy(
        template_meta='    metadata:\n      annotations:\n        secpolicy.dev/ignore: "K8S002: lab"\n'
    )
    assert [s for _, s, _ in state(lint(on_template, "K8S002"), "K8S002")] == [True, True]
    per_container = deploy(
        annotations='  annotations:\n    secpolicy.dev/ignore.sidecar: "K8S002,K8S203: proxy; K8S205: writes its config"\n'
    )
    findings = lint(per_container, "K8S002", "K8S203", "K8S205")
    assert state(findings, "K8S002") == [("Deployment/api", False, None), ("Deployment/api", True, "proxy")]
    assert [f.suppressed for f in findings if f.rule == "K8S205"] == [False, True]


def test_reason_required_and_unknown_rules() -> None:
    text = deploy(
        annotations='  annotations:\n    secpolicy.dev/ignore: "K8S002"\n    secpolicy.dev/ignore.app: "K8S999: x"\n'
    )
    findings = lint(text, "K8S002", "SP002")
    assert [s for _, s, _ in state(findings, "K8S002")] == [False, False]
    problems = [f.message for f in findings if f.rule == "SP002"]
    assert any("has no reason" in p for p in problems)
    assert any("unknown rule 'K8S999'" in p for p in problems)
    no_reason = deploy().replace("      - name: sidecar", "      # secpolicy: ignore=K8S002\n      - name: sidecar")
    findings = lint(no_reason, "K8S002", "SP002")
    assert not any(f.suppressed for f in findings)
    assert [f.rule for f in findings].count("SP002") == 1


def test_suppressed_findings_stay_in_json() -> None:
    from secpolicy.report import RenderOptions, Report, jsondoc

    text = deploy(annotations='  annotations:\n    secpolicy.dev/ignore: "K8S002: lab cluster"\n')
    findings = lint(text, "K8S002")
    doc = jsondoc.render(Report([RULES["K8S002"]], findings, [], 1), RenderOptions())
    assert '"suppression": {\n        "reason": "lab cluster"' in doc or '"reason": "lab cluster"' in doc


def test_annotation_for_a_container_that_does_not_exist() -> None:
    text = deploy(annotations='  annotations:\n    secpolicy.dev/ignore.sidecar-typo: "K8S002: proxy"\n')
    findings = lint(text, "K8S002", "SP002")
    (problem,) = [f for f in findings if f.rule == "SP002"]
    assert "names no container" in problem.message
    assert "sidecar-typo" in problem.message
