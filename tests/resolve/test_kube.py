"""The effective context of containers: pod over container, image user, capabilities, kubelet refusal."""

from __future__ import annotations

from pathlib import Path

from secpolicy import catalog, config
from secpolicy.engine import Engine, LintOptions
from secpolicy.model import EffectiveContext

RULES = catalog.load()


def contexts(text: str, cfg: config.Config | None = None) -> dict[str, EffectiveContext]:
    result = Engine(RULES, LintOptions(config=cfg or config.Config())).resolve_manifest(text, "m.yaml")
    return {c.target: c for c in result.contexts or []}


POD = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  securityContext:
    runAsUser: 1000
    runAsGroup: 3000
    fsGroup: 2000
    supplementalGroups: [4000]
    seccompProfile: {type: RuntimeDefault}
  initContainers:
  - name: init
    image: busybox:1.36
    securityContext:
      runAsUser: 0
      capabilities: {drop: [ALL], add: [chown, CAP_NET_BIND_SERVICE]}
  containers:
  - name: app
    image: nginx:1.27
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      seccompProfile: {type: Localhost, localhostProfile: p.json}
  ephemeralContainers:
  - name: debug
    image: busybox:1.36
    securityContext: {privileged: true}
"""


def test_container_over_pod_and_pod_only_fields() -> None:
    got = contexts(POD)
    assert set(got) == {"Pod/p init container init", "Pod/p container app", "Pod/p ephemeral container debug"}
    app = got["Pod/p container app"]
    assert (app.user.uid, app.user.gid, app.user.groups) == (1000, 3000, (2000, 4000))
    assert str(app.provenance["user"]) == "m.yaml:6:spec.securityContext.runAsUser"
    assert str(app.provenance["gid"]) == "m.yaml:7:spec.securityContext.runAsGroup"
    assert app.seccomp == "Localhost"
    assert app.no_new_privs is True
    assert app.read_only_rootfs is True
    assert app.capabilities.effective == ()  # non-root: nothing after exec
    assert "NET_RAW" in app.capabilities.bounding
    init = got["Pod/p init container init"]
    assert init.user.uid == 0
    # any case; containerd prefixes CAP_ itself, so CAP_NET_BIND_SERVICE names nothing it knows
    assert init.capabilities.bounding == ("CHOWN",)
    assert init.capabilities.effective == ("CHOWN",)  # root holds its bounding set
    assert init.seccomp == "RuntimeDefault"
    debug = got["Pod/p ephemeral container debug"]
    assert debug.privileged is True
    assert len(debug.capabilities.bounding) == 41


def test_defaults_without_a_security_context() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: [{name: a, image: x}]\n"
    (ctx,) = contexts(text).values()
    assert ctx.user.known is False
    assert ctx.seccomp == "Unconfined"
    assert "kubelet default" in str(ctx.provenance["seccomp"])
    assert ctx.no_new_privs is False
    assert ctx.host_namespaces == ("network",)
    assert len(ctx.capabilities.bounding) == 14


def test_cri_o_defaults(tmp_path: Path) -> None:
    (tmp_path / "secpolicy.yaml").write_text("runtime-defaults: cri-o\n")
    cfg = config.load(tmp_path / "secpolicy.yaml")
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: x}]\n"
    (ctx,) = contexts(text, cfg).values()
    assert "NET_RAW" not in ctx.capabilities.bounding
    assert len(ctx.capabilities.bounding) == 9
    prefixed = text.replace(
        "{name: a, image: x}", "{name: a, image: x, securityContext: {capabilities: {add: [CAP_SYS_TIME]}}}"
    )
    (ctx,) = contexts(prefixed, cfg).values()
    assert "SYS_TIME" in ctx.capabilities.bounding  # CRI-O takes the CAP_ prefix


def test_image_user_through_a_dockerfile(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "Dockerfile").write_text("FROM debian:12\nRUN useradd -u 10001 app\nUSER 10001\n")
    (tmp_path / "secpolicy.yaml").write_text("images:\n  ghcr.io/acme/svc: {dockerfile: svc/Dockerfile}\n")
    cfg = config.load(tmp_path / "secpolicy.yaml")
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: ghcr.io/acme/svc:2}]\n"
    )
    (ctx,) = contexts(text, cfg).values()
    assert ctx.user.uid == 10001
    assert "svc/Dockerfile" in str(ctx.user.source)
    assert "USER 10001" in str(ctx.user.source)


def test_kubelet_refusals() -> None:
    base = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext: {runAsNonRoot: true}\n  containers:\n"
    zero = contexts(base + "  - {name: a, image: x, securityContext: {runAsUser: 0}}\n")
    assert "runAsUser 0" in (next(iter(zero.values())).start_error or "")
    ok = contexts(base + "  - {name: a, image: x, securityContext: {runAsUser: 5}}\n")
    assert next(iter(ok.values())).start_error is None
    unknown = contexts(base + "  - {name: a, image: x}\n")
    assert next(iter(unknown.values())).start_error is None  # decided at start, never as root


def test_selinux_replaced_whole_and_apparmor_order() -> None:
    text = """apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    container.apparmor.security.beta.kubernetes.io/b: localhost/k8s-b
spec:
  securityContext:
    seLinuxOptions: {user: system_u, level: "s0:c1"}
    appArmorProfile: {type: Unconfined}
  containers:
  - name: a
    image: x
    securityContext:
      seLinuxOptions: {type: container_t}
      appArmorProfile: {type: RuntimeDefault}
  - name: b
    image: x
    securityContext:
      privileged: true
"""
    got = contexts(text)
    a, b = got["Pod/p container a"], got["Pod/p container b"]
    assert a.selinux == "type=container_t"  # the container's struct replaces the pod's, no merge
    assert b.selinux == "user=system_u level=s0:c1"
    assert a.apparmor == "RuntimeDefault"
    assert b.apparmor == "Unconfined"  # the pod-level field wins over the annotation
    assert str(b.provenance["no_new_privs"]) == str(b.provenance["privileged"])


def test_escalation_false_with_privileged_is_rejected() -> None:
    from secpolicy.engine import Engine, LintOptions

    base = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext:\n"
    for extra in ("      privileged: true\n", "      capabilities: {add: [CAP_SYS_ADMIN]}\n"):
        findings = (
            Engine(RULES, LintOptions())
            .lint_manifest(base + extra + "      allowPrivilegeEscalation: false\n", "m.yaml")
            .findings
        )
        (error,) = [f for f in findings if f.rule == "SP001"]
        assert error.field == "spec.containers[0].securityContext.allowPrivilegeEscalation"
        assert "rejects" in error.message


def test_provenance_of_every_value_and_user_namespace() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  hostUsers: false
  hostPID: true
  securityContext:
    supplementalGroups: [5]
  containers:
  - name: a
    image: x
    securityContext: {runAsUser: 0, procMount: Unmasked}
"""
    (ctx,) = contexts(text).values()
    assert ctx.user_namespace is True
    assert ctx.proc_mount == "Unmasked"
    for key in ("user", "groups", "host_namespaces", "proc_mount", "user_namespace", "run_as_non_root", "privileged"):
        assert key in ctx.provenance, key
    assert "not set" in str(ctx.provenance["run_as_non_root"])
    assert "not set" in str(ctx.provenance["privileged"])
    from secpolicy import catalog
    from secpolicy.engine import Engine, LintOptions

    findings = Engine(catalog.load(), LintOptions(select=["K8S201"])).lint_manifest(text, "m.yaml").findings
    assert findings == []  # uid 0 in a user namespace is not root on the host
