"""Manifests through the engine: what is judged, what is skipped quietly, and bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from secpolicy import catalog
from secpolicy.engine import Engine, LintOptions
from secpolicy.model import Finding

RULES = catalog.load()


def lint(text: str, **options: object) -> list[Finding]:
    return Engine(RULES, LintOptions(**options)).lint_manifest(text, "m.yaml").findings  # type: ignore[arg-type]


def rules_of(findings: list[Finding]) -> list[str]:
    return sorted({f.rule for f in findings})


POD = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext: {privileged: true}
"""


@pytest.mark.parametrize(
    "text",
    [
        "name: CI\non: [push]\njobs: {build: {runs-on: ubuntu-latest}}\n",
        "repos:\n- repo: local\n  hooks: []\n",
        "services:\n  web:\n    image: nginx\n    privileged: true\n",
        "replicaCount: 1\nimage: {repository: nginx}\nkind: values\n",
        '{"name": "pkg", "version": "1.0.0"}',
        "- just\n- a list\n",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80}]}\n",
    ],
)
def test_not_a_workload_is_skipped_quietly(text: str) -> None:
    assert lint(text) == []


def test_field_path_and_position() -> None:
    (finding,) = [f for f in lint(POD, select=["K8S002"])]
    assert (finding.line, finding.column) == (8, 23)
    assert finding.field == "spec.containers[0].securityContext.privileged"
    assert finding.target == "Pod/p"


def test_json_manifest() -> None:
    text = (
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": '
        '[{"name": "app", "image": "nginx", "securityContext": {"privileged": true}}]}}'
    )
    assert rules_of(lint(text, select=["K8S002"])) == ["K8S002"]


def test_helm_template_gives_one_clear_error() -> None:
    text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n{{ include "x" . | indent 4 }}\n'
    findings = lint(text)
    assert rules_of(findings) == ["SP001"]
    assert len(findings) == 1
    assert "helm template" in findings[0].message


def test_malformed_document_does_not_stop_the_others() -> None:
    text = POD + "---\nkind: [\n---\n" + POD.replace("name: p", "name: q")
    findings = lint(text, select=["K8S002"])
    assert "SP001" in rules_of(findings)
    assert {f.target for f in findings if f.rule == "K8S002"} == {"Pod/p", "Pod/q"}


def test_document_that_is_a_list_or_scalar_in_a_manifest() -> None:
    findings = lint(POD + "---\n- a\n- b\n---\njust text\n", select=["K8S002"])
    errors = [f for f in findings if f.rule == "SP001"]
    assert [e.line for e in errors] == [9, 12]  # the --- that starts each
    assert "not a Kubernetes object" in errors[0].message
    assert "K8S002" in rules_of(findings)


@pytest.mark.parametrize(
    ("fragment", "field", "words"),
    [
        ("securityContext: {privileged: 'yes'}", "spec.containers[0].securityContext.privileged", "must be a boolean"),
        ("securityContext: {runAsUser: -1}", "spec.containers[0].securityContext.runAsUser", "between 0 and"),
        ("securityContext: {runAsUser: '1000'}", "spec.containers[0].securityContext.runAsUser", "must be an integer"),
        ("securityContext: []", "spec.containers[0].securityContext", "must be a mapping"),
        ("ports: {containerPort: 80}", "spec.containers[0].ports", "must be a list"),
    ],
)
def test_wrong_types_are_precise(fragment: str, field: str, words: str) -> None:
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: app\n    image: x\n    {fragment}\n"
    (error,) = [f for f in lint(text) if f.rule == "SP001"]
    assert error.field == field
    assert words in error.message
    assert error.line == 8
    assert "Pod/p" in error.message


def test_containers_not_a_list() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {}\n"
    (error,) = lint(text)
    assert error.field == "spec.containers"
    assert "must be a list" in error.message


def test_the_rest_is_still_linted_after_a_type_error() -> None:
    bad = POD.replace("{privileged: true}", "{privileged: 'yes'}").replace("name: p", "name: bad")
    findings = lint(bad + "---\n" + POD, select=["K8S002"])
    assert {f.rule for f in findings} == {"SP001", "K8S002"}
    assert [f.target for f in findings if f.rule == "K8S002"] == ["Pod/p"]


def test_duplicate_key_judges_the_last_value() -> None:
    text = POD.replace("{privileged: true}", "\n      privileged: false\n      privileged: true")
    findings = lint(text, select=["K8S002", "SP003"])
    assert rules_of(findings) == ["K8S002", "SP003"]


def test_alias_bomb_in_a_manifest(tmp_path: Path) -> None:
    lines = [
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {name: p}",
        'x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for i in range(1, 10):
        lines.append(f"x{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    start = time.perf_counter()
    findings = lint("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2
    assert rules_of(findings) == ["SP001"]
    assert "alias bomb" in findings[0].message


def test_huge_file_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    with path.open("wb") as fh:
        fh.write(POD.encode())
        fh.truncate(50 * 1024 * 1024)
    result = Engine(RULES, LintOptions()).read_and_lint(path, "big.yaml")
    (error,) = result.findings
    assert error.rule == "SP001"
    assert "too large" in error.message


def test_workloads_and_nesting() -> None:
    kinds = {
        "apps/v1 Deployment": "spec:\n  template:\n    spec:\n      hostPID: true\n      containers: [{name: a, image: x}]\n",
        "batch/v1 CronJob": "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          hostPID: true\n          containers: [{name: a, image: x}]\n",
        "v1 PodTemplate": "template:\n  spec:\n    hostPID: true\n    containers: [{name: a, image: x}]\n",
        "argoproj.io/v1alpha1 Rollout": "spec:\n  template:\n    spec:\n      hostPID: true\n      containers: [{name: a, image: x}]\n",
    }
    for head, body in kinds.items():
        api, kind = head.split()
        text = f"apiVersion: {api}\nkind: {kind}\nmetadata: {{name: w}}\n{body}"
        assert rules_of(lint(text, select=["K8S001"])) == ["K8S001"], head
    rollout_ref = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  workloadRef: {kind: Deployment, name: d}\n"
    assert lint(rollout_ref) == []


def test_crd_from_config(tmp_path: Path) -> None:
    from secpolicy import config

    cfg_path = tmp_path / "secpolicy.yaml"
    cfg_path.write_text("workloads:\n- {kind: Widget, apiVersion: example.com/v1, path: spec.podTemplate}\n")
    cfg = config.load(cfg_path)
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  podTemplate:\n    spec:\n      hostIPC: true\n      containers: [{name: a, image: x}]\n"
    assert rules_of(lint(text, select=["K8S001"], config=cfg)) == ["K8S001"]
    other_group = text.replace("example.com/v1", "other.io/v1")
    assert lint(other_group, select=["K8S001"], config=cfg) == []


def test_braces_elsewhere_do_not_hide_the_file() -> None:
    config_map = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  tpl: "{{ .Name }}"\n'
    findings = lint(config_map + "---\nkind: [\n---\n" + POD, select=["K8S002"])
    assert "K8S002" in rules_of(findings)
    assert not any("helm template" in f.message for f in findings)


def _pod(security: str, pod_security: str = "", image: str = "nginx:1.27") -> str:
    head = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n{pod_security}  containers:\n"
    return head + f"  - name: app\n    image: {image}\n    securityContext:\n{security}"


def test_cap_prefix_means_nothing_to_containerd() -> None:
    # containerd's WithCapabilities prepends CAP_ itself: CAP_NET_RAW becomes the unknown CAP_CAP_NET_RAW
    dropped = lint(_pod("      capabilities: {drop: [CAP_NET_RAW]}\n"), select=["K8S203"])
    assert rules_of(dropped) == ["K8S203"]
    added = lint(_pod("      capabilities: {add: [CAP_SYS_ADMIN]}\n"), select=["K8S202"])
    assert added == []
    assert rules_of(lint(_pod("      capabilities: {drop: [net_raw]}\n"), select=["K8S203"])) == []


def test_merge_key_overrides_an_earlier_key_like_kubectl() -> None:
    text = "x-priv: &priv {privileged: true}\n" + _pod("      privileged: false\n      <<: *priv\n")
    assert rules_of(lint(text, select=["K8S002"])) == ["K8S002"]


def test_crlf_manifest_recovers_and_reads_pragmas() -> None:
    text = ("kind: [\n---\n" + POD).replace("\n", "\r\n")
    assert "K8S002" in rules_of(lint(text, select=["K8S002"]))
    pragma = ("# secpolicy: ignore=K8S002 reason=lab\n---\n\n" + POD).replace("\n", "\r\n")
    findings = lint(pragma, select=["K8S002"])
    assert [f.suppressed for f in findings] == [True]


def test_pragma_right_after_a_block_scalar() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "  - name: first\n    image: busybox\n    args:\n    - |\n      echo hi\n"
        "  # secpolicy: ignore=K8S002 reason=needs devices\n"
        "  - name: second\n    image: busybox\n    securityContext: {privileged: true}\n"
    )
    findings = lint(text, select=["K8S002"])
    assert [(f.rule, f.suppressed) for f in findings] == [("K8S002", True)]


def test_keyed_pragma_covers_that_key_only() -> None:
    caps = "      # secpolicy: ignore=K8S202:SYS_ADMIN reason=fuse mounts\n      capabilities: {add: [SYS_ADMIN, NET_ADMIN]}\n"
    findings = lint(_pod(caps), select=["K8S202"])
    assert sorted((f.message.split()[3], f.suppressed) for f in findings) == [
        ("CAP_NET_ADMIN", False),
        ("CAP_SYS_ADMIN", True),
    ]


def test_windows_pod_is_not_refused_for_a_named_user() -> None:
    text = _pod(
        "      windowsOptions: {runAsUserName: ContainerUser}\n",
        "  os: {name: windows}\n  securityContext: {runAsNonRoot: true}\n",
    )
    assert lint(text, select=["K8S207", "K8S201"]) == []


def test_run_as_non_root_and_no_new_privs_make_a_capability_harmless() -> None:
    text = _pod(
        "      allowPrivilegeEscalation: false\n      capabilities: {add: [SYS_PTRACE]}\n",
        "  securityContext: {runAsNonRoot: true}\n",
        image="ghcr.io/acme/unknown:1",
    )
    assert lint(text, select=["K8S202"]) == []


def test_numbers_as_kubectl_sends_them() -> None:
    for spelling, uid in (("1000.0", 1000), ("1e3", 1000), ("0o17", 15), ("0x10", 16)):
        text = _pod(f"      runAsUser: {spelling}\n")
        findings = lint(text, select=["SP001", "K8S201"])
        assert findings == [], (spelling, findings)
        result = Engine(RULES, LintOptions()).resolve_manifest(text, "m.yaml")
        assert result.contexts is not None
        assert result.contexts[0].user.uid == uid
    (error,) = lint(_pod("      runAsUser: 0.5\n"), select=["SP001"])
    assert "must be an integer" in error.message


def test_privileged_runs_unconfined_whatever_the_profiles() -> None:
    text = _pod(
        "      privileged: true\n      seccompProfile: {type: RuntimeDefault}\n      appArmorProfile: {type: RuntimeDefault}\n"
    )
    result = Engine(RULES, LintOptions()).resolve_manifest(text, "m.yaml")
    assert result.contexts is not None
    (ctx,) = result.contexts
    assert (ctx.seccomp, ctx.apparmor) == ("Unconfined", "Unconfined")


def test_no_doubled_prefix_in_load_errors() -> None:
    (error,) = [f for f in lint(POD + "---\nkind: [\n") if f.rule == "SP001"]
    assert error.message.count("cannot lint") == 1


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: x}\n", "spec.template"),
        ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: []}\n", "spec.jobTemplate"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n", "spec.template"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "spec"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n", "spec.containers"),
        ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", "items"),
        ("apiVersion: v1\nkind: List\nitems: [1, null]\n", "items[0]"),
    ],
)
def test_malformed_workloads_are_reported(text: str, field: str) -> None:
    errors = [f for f in lint(text) if f.rule == "SP001"]
    assert errors, text
    assert errors[0].field == field
    assert "cannot lint" in errors[0].message


def test_optional_templates_are_quiet() -> None:
    rc = "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}\nspec: {replicas: 0}\n"
    assert lint(rc) == []
