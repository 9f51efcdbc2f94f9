"""secpolicy run: the plan, the gate (the same verdict as lint), the OCI config, and real containers under runc."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from containers import make_rootfs, needs_runc, secpolicy_run
from containers import secpolicy_run as run_it
from helpers import FIXTURES, lint_case

from secpolicy import config as config_module
from secpolicy.runtime import gate
from secpolicy.runtime.plan import PlanError, RunOptions, RunPlan, from_dockerfile, plan

SPEC = ROOT / "tests" / "data" / "runtime-spec"


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    return make_rootfs(tmp_path / "rootfs")


def validator() -> object:
    """The OCI runtime-spec schema (draft 4), its files referring to each other by name."""
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    files = [
        (p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
        for p in SPEC.glob("*.json")
    ]
    schema = json.loads((SPEC / "config-schema.json").read_text())
    return jsonschema.Draft4Validator(schema, registry=Registry().with_resources(files))


def test_plan_resolves_the_user_and_the_caps(rootfs: Path) -> None:
    decided = plan(RunOptions(rootfs, ["/bin/id"], user="app", cap_drop=["ALL"], cap_add=["NET_BIND_SERVICE"]))
    assert (decided.context.user.uid, decided.context.user.gid, decided.context.user.groups) == (1000, 1000, (10, 29))
    assert decided.context.capabilities.bounding == ("NET_BIND_SERVICE",)
    assert decided.context.capabilities.effective == ()  # a non-root user holds nothing after exec
    assert gate.judge(decided, {}) == []
    assert decided.env["HOME"] == "/home/app"
    with pytest.raises(PlanError, match="no command"):
        plan(RunOptions(rootfs))
    with pytest.raises(PlanError, match="absolute path"):
        plan(RunOptions(rootfs, ["x"], workdir="relative"))
    with pytest.raises(PlanError, match="HOST:CONTAINER"):
        plan(RunOptions(rootfs, ["x"], volumes=["relative"]))


def test_the_gate_refuses_what_the_policy_forbids(rootfs: Path, tmp_path: Path) -> None:
    root = plan(RunOptions(rootfs, ["/bin/id"]))
    assert [v.rule for v in gate.judge(root, {})] == ["DF101"]
    assert gate.judge(root, {"require-non-root": False}) == []
    wide = plan(RunOptions(rootfs, ["x"], user="1000", cap_add=["SYS_ADMIN"], privileged=False))
    assert [v.rule for v in gate.judge(wide, {})] == ["K8S106"]
    assert (
        gate.judge(
            wide,
            {
                "allowed-capabilities": [
                    "SYS_ADMIN",
                    "CHOWN",
                    "DAC_OVERRIDE",
                    "FOWNER",
                    "FSETID",
                    "KILL",
                    "SETGID",
                    "SETUID",
                    "SETPCAP",
                    "NET_BIND_SERVICE",
                    "NET_RAW",
                    "SYS_CHROOT",
                    "MKNOD",
                    "AUDIT_WRITE",
                    "SETFCAP",
                ]
            },
        )
        == []
    )
    privileged = plan(RunOptions(rootfs, ["x"], user="1000", privileged=True))
    assert "K8S002" in [v.rule for v in gate.judge(privileged, {})]
    data = tmp_path / "data"
    data.mkdir()
    mounted = plan(RunOptions(rootfs, ["x"], user="1000", volumes=[f"{data}:/data:ro"]))
    assert [v.rule for v in gate.judge(mounted, {})] == ["RUN001"]
    assert gate.judge(mounted, {"allowed-bind-mounts": [str(tmp_path)]}) == []


def test_gate_and_lint_agree_on_every_df101_fixture() -> None:
    disagree = []
    cases = sorted((FIXTURES / "DF101").glob("*/*/"))
    for case in cases:
        cfg_path = case / "secpolicy.yaml"
        cfg = config_module.load(cfg_path) if cfg_path.exists() else config_module.Config()
        options: dict[str, Any] = {}
        if (case / "options.yaml").exists():
            import yaml

            options = yaml.safe_load((case / "options.yaml").read_text()) or {}
        cwd = os.getcwd()
        os.chdir(case)
        try:
            linted = bool(lint_case(case, "DF101"))
            start = from_dockerfile(Path("Dockerfile"), options.get("target"), options.get("build_args", {}), cfg)
        finally:
            os.chdir(cwd)
        refused = not start.image_user.known or start.image_user.is_root
        if refused != linted:
            disagree.append(f"{case.relative_to(FIXTURES)}: lint {linted}, gate {refused}")
    assert disagree == []
    assert len(cases) > 20


def test_dry_run_prints_a_valid_oci_config(rootfs: Path) -> None:
    check = validator()
    result = secpolicy_run(
        "--rootfs",
        str(rootfs),
        "--user",
        "app",
        "--cap-drop",
        "ALL",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "-e",
        "A=1",
        "--tmpfs",
        "/tmp",
        "--dry-run",
        "--",
        "/bin/id",
    )
    assert result.returncode == 0, result.stderr
    spec = json.loads(result.stdout[result.stdout.index("{") :])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(spec)]  # type: ignore[attr-defined]
    assert errors == []
    assert spec["process"]["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [10, 29]}
    assert spec["process"]["capabilities"]["bounding"] == []
    assert spec["process"]["noNewPrivileges"] is True
    assert spec["root"]["readonly"] is True
    assert "A=1" in spec["process"]["env"]
    assert {"type": "network"} in spec["linux"]["namespaces"]
    assert "verdict       allowed" in result.stdout
    refused = secpolicy_run("--rootfs", str(rootfs), "--dry-run", "--", "/bin/id")
    assert refused.returncode == 125
    assert "verdict       refused" in refused.stdout
    audited = secpolicy_run("--rootfs", str(rootfs), "--user", "1", "--privileged", "--audit", "--dry-run", "--", "x")
    assert audited.returncode == 0  # --audit: refused, shown, and allowed to run
    assert "K8S002" in audited.stdout
    privileged = json.loads(audited.stdout[audited.stdout.index("{") :])
    assert list(check.iter_errors(privileged)) == []  # type: ignore[attr-defined]
    assert "maskedPaths" not in privileged["linux"]
    from secpolicy.runtime.oci import host_bounding

    host = host_bounding()
    assert host is not None
    assert len(privileged["process"]["capabilities"]["bounding"]) == len(host)  # all 41 the host still has
    if len(host) < 41:
        assert "this host's bounding set lacks" in audited.stderr


BOTH = pytest.mark.parametrize("runtime", ["runc", "bundled"])


@needs_runc
@BOTH
def test_the_runtime_starts_exactly_the_decision(rootfs: Path, runtime: str) -> None:
    status = secpolicy_run(
        "--runtime",
        runtime,
        "--rootfs",
        str(rootfs),
        "--user",
        "app",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "NET_BIND_SERVICE",
        "--",
        "/bin/sh",
        "-c",
        "id; grep -E '^(Cap|NoNewPrivs)' /proc/self/status",
    )
    assert status.returncode == 0, status.stderr
    assert "uid=1000(app) gid=1000(app) groups=10(wheel),29(audio)" in status.stdout
    lines = dict(line.split(":\t") for line in status.stdout.splitlines() if ":\t" in line)
    assert lines["CapBnd"] == "0000000000000400"  # NET_BIND_SERVICE only
    assert lines["CapEff"] == lines["CapPrm"] == lines["CapAmb"] == "0000000000000000"
    assert lines["NoNewPrivs"] == "0"


@needs_runc
@BOTH
def test_exit_codes_refusals_and_read_only(rootfs: Path, tmp_path: Path, runtime: str) -> None:
    def secpolicy_run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_it("--runtime", runtime, *args)

    assert secpolicy_run("--rootfs", str(rootfs), "-u", "1000", "--", "/bin/sh", "-c", "exit 7").returncode == 7
    refused = secpolicy_run("--rootfs", str(rootfs), "--", "/bin/id")
    assert refused.returncode == 125
    assert "refused: DF101" in refused.stderr or "refused: K8S201" in refused.stderr
    audited = secpolicy_run("--rootfs", str(rootfs), "--audit", "--", "/bin/id", "-u")
    assert (audited.returncode, audited.stdout.strip()) == (0, "0")
    assert "audit:" in audited.stderr
    read_only = secpolicy_run("--rootfs", str(rootfs), "-u", "0", "--audit", "--read-only", "--", "/bin/touch", "/x")
    assert read_only.returncode != 0
    nnp = secpolicy_run(
        "--rootfs",
        str(rootfs),
        "-u",
        "1000",
        "--security-opt",
        "no-new-privileges",
        "--",
        "/bin/grep",
        "NoNewPrivs",
        "/proc/self/status",
    )
    assert nnp.stdout.split() == ["NoNewPrivs:", "1"]
    (tmp_path / "Dockerfile").write_text(
        'FROM scratch\nENV GREETING=hello\nUSER 1000\nWORKDIR /tmp\nCMD ["/bin/sh", "-c", "id -u; echo $GREETING; pwd"]\n'
    )
    from_file = secpolicy_run("--rootfs", str(rootfs), "--from", str(tmp_path / "Dockerfile"))
    assert from_file.returncode == 0, from_file.stderr
    assert from_file.stdout.split() == ["1000", "hello", "/tmp"]


def test_gate_and_lint_agree_on_every_k8s201_and_k8s207_fixture(tmp_path: Path) -> None:
    from secpolicy.runtime.plan import from_pod

    disagree = []
    cases = sorted({*(FIXTURES / "K8S201").glob("*/*/"), *(FIXTURES / "K8S207").glob("*/*/")})
    checked = 0
    for case in cases:
        manifest = case / "manifest.yaml"
        if not manifest.exists():
            continue
        cfg_path = case / "secpolicy.yaml"
        cfg = config_module.load(cfg_path) if cfg_path.exists() else config_module.Config()
        linted = {(f.rule, f.target) for f in lint_case(case, "K8S201") + lint_case(case, "K8S207") if not f.suppressed}
        import yaml

        for doc in yaml.safe_load_all(manifest.read_text()):
            spec = (doc or {}).get("spec", {})
            spec = spec.get("template", {}).get("spec", spec) if isinstance(spec, dict) else {}
            for group in ("initContainers", "containers"):
                for c in spec.get(group) or []:
                    try:
                        start = from_pod(manifest, c["name"], cfg, cfg.runtime)
                    except PlanError:
                        continue  # several pods in one file name the same container: judged through lint only
                    context = start.context
                    decided = RunPlan(context, None, ["x"], {}, "/", "h", "none")
                    verdict = {v.rule for v in gate.judge(decided, {}, rule_for_root="K8S201")}
                    refused = bool(verdict & {"K8S201", "K8S207"})
                    said = any(target and str(target).endswith(f" {c['name']}") for _, target in linted)
                    checked += 1
                    if refused != said and not context.user_namespace and context.user.name != "ContainerAdministrator":
                        disagree.append(f"{case.relative_to(FIXTURES)} {c['name']}: lint {said}, gate {refused}")
    assert disagree == []
    assert checked >= 9


@needs_runc
@BOTH
def test_a_pod_container_runs_with_its_security_context(rootfs: Path, tmp_path: Path, runtime: str) -> None:
    def secpolicy_run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_it("--runtime", runtime, *args)

    (tmp_path / "pod.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
        "  securityContext: {runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true}\n"
        "  containers:\n  - name: api\n    image: busybox:1.36\n    command: [/bin/sh, -c]\n"
        "    args: ['id -u; echo $MODE; grep -E \"^(CapBnd|NoNewPrivs)\" /proc/self/status']\n"
        "    env: [{name: MODE, value: prod}]\n"
        "    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
    )
    result = secpolicy_run("--rootfs", str(rootfs), "--pod", str(tmp_path / "pod.yaml"), "--container", "api")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1000", "prod", "CapBnd:", "0000000000000000", "NoNewPrivs:", "1"]
    (tmp_path / "root.yaml").write_text(
        (tmp_path / "pod.yaml").read_text().replace("runAsUser: 1000, ", "runAsUser: 0, ")
    )
    refused = secpolicy_run("--rootfs", str(rootfs), "--pod", str(tmp_path / "root.yaml"))
    assert refused.returncode == 125
    assert "K8S201" in refused.stderr or "K8S207" in refused.stderr
