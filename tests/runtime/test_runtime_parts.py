"""The bundled runtime's parts, in this process: the config reader, capability masks, paths in the rootfs, lookup."""

from __future__ import annotations

import copy
import errno
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from containers import make_rootfs

from secpolicy.runtime import bundled, caps, libc, oci, signals, spec
from secpolicy.runtime.plan import RunOptions, plan

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the bundled runtime is Linux only")


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    rootfs = make_rootfs(tmp_path / "rootfs")
    decided = plan(RunOptions(rootfs, ["/bin/id"], user="app", read_only=True, tmpfs=["/run"]))
    return oci.config(decided)


def test_the_config_reads_into_what_the_runtime_does(config: dict[str, Any]) -> None:
    container = spec.read(config)
    assert (container.uid, container.gid, container.additional_gids) == (1000, 1000, [10, 29])
    assert container.bounding == 0xA80425FB  # Docker's 14
    assert container.effective == container.permitted == container.ambient == 0
    assert container.read_only
    assert container.namespaces == (
        libc.CLONE_NEWPID | libc.CLONE_NEWNS | libc.CLONE_NEWUTS | libc.CLONE_NEWIPC | libc.CLONE_NEWNET
    )
    proc = next(m for m in container.mounts if m.destination == "/proc")
    assert proc.flags == libc.MS_NOSUID | libc.MS_NOEXEC | libc.MS_NODEV
    dev = next(m for m in container.mounts if m.destination == "/dev")
    assert (dev.data, dev.flags & libc.MS_STRICTATIME) == ("mode=755,size=65536k", libc.MS_STRICTATIME)
    assert next(m for m in container.mounts if m.destination == "/run").type == "tmpfs"
    assert container.path.startswith("/usr/local/sbin")
    assert container.rlimits == [(7, 1024, 1024)]  # RLIMIT_NOFILE
    assert container.warnings == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c.update(ociVersion="invalid"), "ociVersion"),
        (lambda c: c["process"].update(args=[]), "nothing to run"),
        (lambda c: c["process"]["rlimits"].append({"type": "RLIMIT_TEST", "soft": 1, "hard": 1}), "unknown rlimit"),
        (lambda c: c["process"]["rlimits"].append(dict(c["process"]["rlimits"][0])), "given twice"),
        (lambda c: c["mounts"].append({"destination": "data", "type": "tmpfs"}), "not absolute"),
        (lambda c: c["mounts"].append({"destination": "/proc", "type": "tmpfs"}), "only a proc"),
        (lambda c: c["linux"]["namespaces"].append({"type": "user"}), "not supported"),
        (lambda c: c["linux"]["namespaces"].append({"type": "net", "path": "/x"}), "joining"),
        (lambda c: c["process"].pop("user"), "invalid config.json"),
        (lambda c: c["linux"].update(seccomp={"defaultAction": "SCMP_ACT_ERRNO"}), "linux.seccomp: not carried"),
        (lambda c: c.update(hooks={}), "hooks: not carried out"),
        (lambda c: c["process"].update(oomScoreAdj=5), "process.oomScoreAdj"),
        (lambda c: c["mounts"].append({"destination": "/x", "type": "tmpfs", "options": ["rprivate"]}), "option"),
        (lambda c: c["mounts"].append({"destination": "/c", "type": "cgroup2", "source": "cgroup"}), "cgroup2"),
        (lambda c: c["linux"].update(namespaces=[{"type": "pid"}]), "needs a mount namespace"),
        (lambda c: c["linux"].update(namespaces=[{"type": "mount"}]), "needs a uts namespace"),
        (lambda c: c["process"]["user"].update(uid=4294967295), "0-2147483647"),
        (lambda c: c["process"].update(cwd="relative"), "absolute path"),
        (lambda c: c["process"]["user"].update(gid=-1), "0-2147483647"),
        (lambda c: c["process"]["user"].update(additionalGids=[True]), "0-2147483647"),
    ],
)
def test_invalid_configs_are_errors(config: dict[str, Any], change: Any, message: str) -> None:
    broken = copy.deepcopy(config)
    change(broken)
    with pytest.raises(spec.SpecError, match=message):
        spec.read(broken)


def test_unknown_capabilities_are_warnings(config: dict[str, Any]) -> None:
    config["process"]["capabilities"]["bounding"].append("CAP_TEST")
    container = spec.read(config)
    assert container.warnings == ["ignoring the unknown capability CAP_TEST (bounding)"]
    assert caps.mask(["CAP_KILL", "net_bind_service", "CAP_TEST"]) == (0x420, ["CAP_TEST"])
    assert caps.names(0x420) == ["KILL", "NET_BIND_SERVICE"]
    assert caps.names(1 << 45) == ["45"]


@linux
def test_capabilities_read_back_as_the_kernel_reports_them() -> None:
    status = dict(line.split(":\t", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":\t" in line)
    calls = caps.Capabilities(libc.Libc())
    effective, permitted, inheritable = calls.current()
    assert (f"{effective:016x}", f"{permitted:016x}", f"{inheritable:016x}") == (
        status["CapEff"].strip(),
        status["CapPrm"].strip(),
        status["CapInh"].strip(),
    )
    assert caps.last_cap() == int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    assert f"{calls.bounding(caps.last_cap()):016x}" == status["CapBnd"].strip()


@linux
@pytest.mark.skipif(os.geteuid() != 0, reason="changing capabilities needs root")
@pytest.mark.parametrize("through", ["ctypes", "python-prctl"])
def test_the_credential_calls_in_a_child(through: str) -> None:
    """The order runc uses, in a forked child, through ctypes alone and through python-prctl."""
    module = None
    if through == "python-prctl":
        module = pytest.importorskip("prctl", reason="python-prctl is the run extra (pip install '.[run]')")
    calls = caps.Capabilities(libc.Libc(), module)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.close(read_end)
            nbs = 1 << caps.NUMBERS["NET_BIND_SERVICE"]
            calls.set_name("secpolicy-test")
            calls.set_not_dumpable()
            calls.set_pdeathsig(signal.SIGKILL)
            calls.drop_bounding(nbs, caps.last_cap())
            calls.set_keepcaps(True)
            os.setgroups([29])
            os.setresgid(1000, 1000, 1000)
            os.setresuid(1000, 1000, 1000)
            calls.set_keepcaps(False)
            calls.capset(nbs, nbs, nbs)
            refused = calls.set_ambient(nbs | 1 << caps.NUMBERS["KILL"], caps.last_cap())
            calls.set_no_new_privs()
            status = Path("/proc/self/status").read_text()
            lines = [x for x in status.splitlines() if x.split(":")[0] in ("CapBnd", "CapAmb", "CapEff", "NoNewPrivs")]
            report = "\n".join([*lines, f"refused {refused}", Path("/proc/self/comm").read_text().strip()])
            os.write(write_end, report.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        lines = fh.read().splitlines()
    os.waitpid(pid, 0)
    assert lines == [
        "CapEff:\t0000000000000400",
        "CapBnd:\t0000000000000400",
        "CapAmb:\t0000000000000400",
        "NoNewPrivs:\t1",
        f"refused [{caps.NUMBERS['KILL']}]",  # KILL is in neither permitted nor inheritable
        "secpolicy-test",
    ]


@linux
def test_paths_in_the_rootfs_never_leave_it(tmp_path: Path) -> None:
    from secpolicy.runtime.fs import Filesystem, FsError

    root = make_rootfs(tmp_path / "rootfs")
    (root / "data").symlink_to("/etc")  # absolute: inside the rootfs, the rootfs' own /etc
    (root / "up").symlink_to("../../../../../../..")
    (root / "proc").rmdir()
    (root / "proc").symlink_to("/etc")
    files = Filesystem(libc.Libc())
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        made = files.target(fd, "/data/new/dir", libc.RESOLVE_IN_ROOT, directory=True)
        assert os.readlink(f"/proc/self/fd/{made}") == str(root / "etc" / "new" / "dir")
        os.close(made)
        file_point = files.target(fd, "/up/etc/hostname", libc.RESOLVE_IN_ROOT, directory=False)
        assert os.readlink(f"/proc/self/fd/{file_point}") == str(root / "etc" / "hostname")
        os.close(file_point)
        assert not Path("/etc/new").exists()
        with pytest.raises(FsError, match="not a directory"):
            files.target(fd, "/etc/passwd", libc.RESOLVE_IN_ROOT, directory=True)
        with pytest.raises(FsError, match="is a directory"):
            files.target(fd, "/etc", libc.RESOLVE_IN_ROOT, directory=False)
        with pytest.raises(FsError, match="ordinary directory"):
            files.mount(fd, spec.MountSpec("/proc", "proc", "proc", 0, ""))
        (root / "dev" / "null").write_text("")
        with pytest.raises(FsError, match="not the null device"):
            files.devnull(fd)
        with pytest.raises(OSError, match="proc/x") as raised:
            files.open_in(fd, "/proc/x", libc.RESOLVE_IN_ROOT | libc.RESOLVE_NO_SYMLINKS)
        assert raised.value.errno == errno.ELOOP
    finally:
        os.close(fd)


def test_the_program_is_looked_up_as_execvp_does_but_never_the_interpreter(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "tool").write_text("#!/bin/sh\n")
    (bin_dir / "tool").chmod(0o755)
    (bin_dir / "data").write_text("x")
    (bin_dir / "escape").write_text("#!/proc/self/exe -c\n")
    (bin_dir / "escape").chmod(0o755)
    (bin_dir / "python").write_text(f"#!{os.path.realpath(sys.executable)}\n")
    (bin_dir / "nested").write_text(f"#!{bin_dir / 'escape'}\n")
    (bin_dir / "nested").chmod(0o755)
    (bin_dir / "odd").write_text(f"#!{tmp_path}\n")  # a directory as the interpreter
    (bin_dir / "odd").chmod(0o755)
    (bin_dir / "python").chmod(0o755)
    info = os.stat(os.path.realpath(sys.executable))
    me = (info.st_dev, info.st_ino)
    path = f"/nonexistent:{bin_dir}"
    assert bundled.find_program("tool", path, me) == str(bin_dir / "tool")
    assert bundled.find_program(str(bin_dir / "tool"), "", me) == str(bin_dir / "tool")
    for name, code, text in [
        ("missing", 127, "not found"),
        ("data", 126, "permission denied"),
        ("escape", 126, "under /proc"),
        ("nested", 126, "under /proc"),
        ("odd", 126, "not a program"),  # a #! line that names a script whose #! line is /proc
        ("python", 126, "own interpreter"),
        (os.path.realpath(sys.executable), 126, "own interpreter"),
        ("/proc/self/exe", 126, "own interpreter"),
    ]:
        with pytest.raises(bundled.StartError, match=text) as raised:
            bundled.find_program(name, path, me)
        assert raised.value.code == code


def test_exit_statuses() -> None:
    assert signals.exit_code(7 << 8) == 7
    assert signals.exit_code(signal.SIGKILL) == 137
    assert signals.exit_code(0) == 0


@linux
def test_no_import_once_locked() -> None:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            bundled.lock_imports()
            import json  # noqa: F401 - already loaded: allowed

            try:
                import antigravity  # noqa: F401
            except ImportError as exc:
                os.write(write_end, str(exc).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        said = fh.read()
    os.waitpid(pid, 0)
    assert said == "secpolicy run: no module may be imported inside the container (antigravity)"
