"""The run plan in this process: flags, env, mounts, the OCI config it becomes, and the errors that stop it."""

from __future__ import annotations

from pathlib import Path

import pytest

from secpolicy import config as config_module
from secpolicy.runtime import oci
from secpolicy.runtime.plan import PlanError, RunOptions, from_dockerfile, from_pod, plan, quote


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    return root


def test_env_workdir_mounts_and_the_config(rootfs: Path, tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nA=1\nB\n")
    data = tmp_path / "data"
    data.mkdir()
    decided = plan(
        RunOptions(
            rootfs,
            ["/bin/app", "--flag"],
            user="1000",
            env=["C=3", "A=2"],
            env_file=[env_file],
            workdir="/srv",
            hostname="box",
            network="host",
            tmpfs=["/run:size=1m"],
            volumes=[f"{data}:/data:ro"],
            security_opt=["no-new-privileges=true"],
            read_only=True,
        )
    )
    assert decided.env["A"] == "2"  # -e wins over --env-file
    assert (decided.env["B"], decided.env["HOSTNAME"], decided.env["HOME"]) == ("", "box", "/home/app")
    spec = oci.config(decided)
    assert spec["process"]["cwd"] == "/srv"
    assert spec["hostname"] == "box"
    assert {"type": "network"} not in spec["linux"]["namespaces"]  # --network host
    assert spec["process"]["noNewPrivileges"] is True
    assert {
        "destination": "/run",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "nodev", "mode=1777"],
    } in spec["mounts"]
    assert {"destination": "/data", "type": "bind", "source": str(data), "options": ["rbind", "ro"]} in spec["mounts"]
    assert quote(decided.args) == "/bin/app --flag"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"network": "bridge"}, "use none"),
        ({"security_opt": ["seccomp=unconfined"]}, "only no-new-privileges"),
        ({"env": ["=x"]}, "not NAME=VALUE"),
        ({"tmpfs": ["run"]}, "absolute path"),
        ({"volumes": ["/a:/b:rx"]}, "ro or rw"),
        ({"volumes": ["a:/b"]}, "must be absolute"),
        ({"env_file": [Path("/nonexistent/env")]}, "cannot read"),
        ({"user": "ghost"}, "unable to find user ghost"),
    ],
)
def test_errors(rootfs: Path, options: dict[str, object], error: str) -> None:
    with pytest.raises(PlanError, match=error):
        plan(RunOptions(rootfs, ["x"], **options))  # type: ignore[arg-type]


def test_from_dockerfile_and_from_pod(rootfs: Path, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text('FROM scratch\nENV X=1\nWORKDIR /a\nWORKDIR b\nENTRYPOINT ["/e"]\nUSER app\n')
    start = from_dockerfile(tmp_path / "Dockerfile", None)
    assert (start.env, start.workdir, start.command()) == ({"X": "1"}, "/a/b", ["/e"])
    decided = plan(RunOptions(rootfs, []), start)
    assert (decided.context.user.uid, decided.args) == (1000, ["/e"])
    (tmp_path / "bad").write_text("FROM\n")
    with pytest.raises(PlanError):
        from_dockerfile(tmp_path / "bad", None)
    pod = tmp_path / "pod.yaml"
    pod.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x, workingDir: /w, command: [/c]}\n  - {name: b, image: x}\n"
    )
    with pytest.raises(PlanError, match="several containers"):
        from_pod(pod, None, config_module.Config(), "containerd")
    with pytest.raises(PlanError, match="no container 'z'"):
        from_pod(pod, "z", config_module.Config(), "containerd")
    found = from_pod(pod, "a", config_module.Config(), "containerd")
    assert (found.command, found.workdir) == (["/c"], "/w")
    decided = plan(RunOptions(rootfs, [], user="1000", cap_drop=["ALL"]), found)
    assert decided.context.capabilities.bounding == ()
    assert decided.args == ["/c"]
