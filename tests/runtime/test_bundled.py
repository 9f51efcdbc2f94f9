"""The bundled runtime against runc: the same /proc/self/status for every profile, and what a container can do."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from containers import make_rootfs, needs_root, needs_runc, secpolicy_run, started, status_lines

STATUS = ["/bin/grep", "-E", "^(Uid|Gid|Groups|Cap...|NoNewPrivs|Seccomp):", "/proc/self/status"]
POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"
    "  securityContext: {runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [4242], fsGroup: 2000}\n"
    "  containers:\n  - name: api\n    image: busybox:1.36\n"
    "    securityContext: {capabilities: {drop: [ALL], add: [NET_BIND_SERVICE, KILL]}}\n"
)
ALLOW_ALL = "run:\n  require-non-root: false\n  allow-privileged: true\n"

# (name, flags); each runs `grep ... /proc/self/status` under both runtimes
PROFILES = [
    ("root with the default set", []),
    ("root, drop ALL", ["--cap-drop", "ALL"]),
    ("root, drop ALL, add NET_BIND_SERVICE", ["--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE"]),
    ("root, add SYS_ADMIN and NET_ADMIN", ["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN"]),
    ("uid 1000 with the default set", ["--user", "1000"]),
    ("uid 1000 with additional groups", ["--user", "1000:1000", "--group-add", "10", "--group-add", "audio"]),
    (
        "uid 1000 with ambient NET_BIND_SERVICE",
        ["--user", "1000", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--ambient", "NET_BIND_SERVICE"],
    ),
    ("uid 1000, no_new_privs on", ["--user", "1000", "--security-opt", "no-new-privileges"]),
    ("root, no_new_privs on", ["--security-opt", "no-new-privileges"]),
    ("uid 1000, no_new_privs off, drop ALL", ["--user", "1000", "--cap-drop", "ALL"]),
    ("read-only root", ["--read-only"]),
    ("a named user from the rootfs' passwd", ["--user", "app"]),
    ("a name for the group too", ["--user", "nobody:wheel"]),
    ("privileged when allowed", ["--privileged", "--config", "{allow_all}"]),
    ("a pod container: pod-level runAsUser, container-level caps", ["--pod", "{pod}", "--container", "api"]),
]


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_rootfs(tmp_path_factory.mktemp("bundled") / "rootfs")


def _flags(flags: list[str], tmp: Path) -> list[str]:
    (tmp / "pod.yaml").write_text(POD)
    (tmp / "allow.yaml").write_text(ALLOW_ALL)
    return [f.format(pod=tmp / "pod.yaml", allow_all=tmp / "allow.yaml") for f in flags]


@needs_runc
@needs_root
@pytest.mark.parametrize(("name", "flags"), PROFILES, ids=[p[0] for p in PROFILES])
def test_the_same_status_as_runc(name: str, flags: list[str], rootfs: Path, tmp_path: Path) -> None:
    args = ["--rootfs", str(rootfs), "--audit", *_flags(flags, tmp_path), "--"]
    seen = {}
    for runtime in ("runc", "bundled"):
        result = secpolicy_run(*args[:-1], "--runtime", runtime, "--", *STATUS)
        assert result.returncode == 0, f"{runtime}: {result.stderr}"
        seen[runtime] = status_lines(result.stdout)
    assert len(seen["runc"]) == 10, seen["runc"]
    assert seen["bundled"] == seen["runc"]


@needs_runc
@needs_root
def test_the_profiles_hold_what_the_kernel_gives(rootfs: Path, tmp_path: Path) -> None:
    """Absolute values, so that the two runtimes cannot agree on something wrong."""

    def status(*flags: str) -> dict[str, str]:
        result = secpolicy_run("--rootfs", str(rootfs), "--audit", *_flags(list(flags), tmp_path), "--", *STATUS)
        assert result.returncode == 0, result.stderr
        return status_lines(result.stdout)

    docker = "00000000a80425fb"
    root = status()
    assert (root["Uid"], root["CapPrm"], root["CapEff"], root["CapBnd"]) == ("0\t0\t0\t0", docker, docker, docker)
    app = status("--user", "1000")
    assert (app["CapPrm"], app["CapEff"], app["CapBnd"], app["CapAmb"]) == ("0" * 16, "0" * 16, docker, "0" * 16)
    ambient = status(
        "--user", "1000", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--ambient", "NET_BIND_SERVICE"
    )
    assert {ambient[k] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")} == {"0000000000000400"}
    groups = status("--user", "app")
    assert (groups["Uid"], groups["Groups"]) == ("1000\t1000\t1000\t1000", "10 29")
    pod = status("--pod", "{pod}")
    # as containerd: the user's /etc/group memberships, then supplementalGroups and fsGroup
    assert (pod["Uid"].split()[0], pod["Gid"].split()[0], pod["Groups"]) == ("1000", "1000", "10 29 2000 4242")
    assert pod["CapBnd"] == "0000000000000420"  # NET_BIND_SERVICE and KILL
    assert status("--security-opt", "no-new-privileges")["NoNewPrivs"] == "1"


@needs_root
def test_port_80_binds_as_uid_1000_only_with_net_bind_service(rootfs: Path) -> None:
    listen = ["/bin/sh", "-c", "nc -l -p 80 & pid=$!; sleep 0.3; kill $pid 2>/dev/null && echo bound"]
    granted = secpolicy_run(
        "--rootfs",
        str(rootfs),
        "--user",
        "1000",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "NET_BIND_SERVICE",
        "--ambient",
        "NET_BIND_SERVICE",
        "--",
        *listen,
    )
    assert (granted.returncode, granted.stdout.strip()) == (0, "bound"), granted.stderr
    bounded_only = secpolicy_run(
        "--rootfs", str(rootfs), "--user", "1000", "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--", *listen
    )
    assert bounded_only.stdout.strip() == ""  # in the bounding set is not held: nc cannot bind
    assert "denied" in bounded_only.stderr.lower()


@needs_root
def test_the_init_is_pid_1_and_reaps_zombies(rootfs: Path) -> None:
    script = (
        "echo ppid=$PPID; cat /proc/1/comm;"
        "(sleep 0.1 &); sleep 0.6;"  # the sleep is orphaned to pid 1, exits, and must be reaped there
        "grep -l '^State:.Z' /proc/[0-9]*/status | wc -l"
    )
    result = secpolicy_run("--rootfs", str(rootfs), "--user", "1000", "--", "/bin/sh", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ppid=1", "secpolicy-init", "0"]


@needs_root
def test_exit_codes(rootfs: Path) -> None:
    def code(*command: str) -> int:
        return secpolicy_run("--rootfs", str(rootfs), "--user", "1000", "--", *command).returncode

    assert code("/bin/sh", "-c", "exit 7") == 7
    assert code("/bin/sh", "-c", "kill -KILL $$") == 128 + 9
    assert code("/bin/sh", "-c", "kill -TERM $$") == 128 + 15
    assert code("no-such-command") == 127
    (rootfs / "plain").write_text("not a program\n")
    assert code("/plain") == 126
    (rootfs / "plain").unlink()


@needs_root
@pytest.mark.parametrize("runtime", ["bundled", "runc"])
def test_a_signal_to_secpolicy_run_reaches_the_command(rootfs: Path, runtime: str) -> None:
    script = "trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done"
    with started(rootfs, script, "--runtime", runtime) as proc:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    assert (proc.returncode, out.strip()) == (3, "got TERM"), err


@needs_root
def test_a_tty_when_asked(rootfs: Path) -> None:
    script = ["/bin/sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo terminal || echo none"]
    with_tty = secpolicy_run("--rootfs", str(rootfs), "-u", "1000", "-t", "--", *script, stdin=subprocess.DEVNULL)
    assert (with_tty.returncode, with_tty.stdout.strip()) == (0, "terminal"), with_tty.stderr
    # the container's own devpts, as runc's console: the pty is /dev/pts/0 there, and /dev/console, the user's
    probe = ["/bin/sh", "-c", "tty; ls -ln /dev/console"]
    own = secpolicy_run("--rootfs", str(rootfs), "-u", "1000", "-t", "--", *probe, stdin=subprocess.DEVNULL)
    lines = own.stdout.replace("\r", "").splitlines()
    assert lines[0] == "/dev/pts/0", own.stdout
    assert lines[1].split()[2] == "1000"
    assert lines[1].endswith("/dev/console")
    plain = secpolicy_run("--rootfs", str(rootfs), "-u", "1000", "--", *script, stdin=subprocess.DEVNULL)
    assert plain.stdout.strip() == "none"


@needs_root
def test_stdin_passes_through(rootfs: Path) -> None:
    result = secpolicy_run("--rootfs", str(rootfs), "-u", "1000", "--", "/bin/cat", input="hello\n")
    assert (result.returncode, result.stdout) == (0, "hello\n")


# adversarial: each of these succeeds on a naive runtime


@needs_root
def test_modules_planted_in_the_rootfs_never_run(tmp_path: Path) -> None:
    import sysconfig

    root = make_rootfs(tmp_path / "trap")
    trap = "import os\nos.write(2, b'TRAP: ' + __name__.encode() + b' ran in the runtime\\n')\nos._exit(99)\n"
    places = {sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], *sys.path[1:]}
    for place in places:
        if not place or not place.startswith("/"):
            continue
        directory = root / place.lstrip("/")
        directory.mkdir(parents=True, exist_ok=True)
        for module in ("warnings", "os", "prctl", "ctypes", "shutil", "subprocess", "linecache", "traceback"):
            (directory / f"{module}.py").write_text(trap)
        (directory / "encodings").mkdir(exist_ok=True)
        (directory / "encodings" / "__init__.py").write_text(trap)
    for command in (["sh", "-c", "echo fine"], ["no-such-command"], ["/bin/sh", "-c", "exit 4"]):
        result = secpolicy_run("--rootfs", str(root), "-u", "1000", "--", *command)
        assert "TRAP" not in result.stderr + result.stdout
        assert result.returncode != 99
    cwd_error = secpolicy_run("--rootfs", str(root), "-u", "1000", "-w", "/etc/passwd", "--", "true")
    assert cwd_error.returncode == 125
    assert "TRAP" not in cwd_error.stderr
    assert "working directory" in cwd_error.stderr


@needs_root
def test_only_stdio_and_no_ignored_or_blocked_signal_reach_the_command(rootfs: Path) -> None:
    leaked = os.open("/", os.O_RDONLY)  # a host directory, inheritable: what CVE-2024-21626 used
    try:
        os.set_inheritable(leaked, True)

        def hostile() -> None:  # the caller ignores and blocks signals, and passes the fd on
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGALRM})

        result = secpolicy_run(
            "--rootfs",
            str(rootfs),
            "-u",
            "1000",
            "--",
            "/bin/sh",
            "-c",
            "ls /proc/self/fd; grep -E '^Sig(Ign|Blk)' /proc/self/status; readlink /proc/self/cwd",
            pass_fds=(leaked,),
            preexec_fn=hostile,
        )
    finally:
        os.close(leaked)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[:4] == ["0", "1", "2", "3"]  # 3 is ls's own directory
    assert "SigIgn:\t0000000000000000" in lines
    assert "SigBlk:\t0000000000000000" in lines
    assert lines[-2] == "/"


@needs_root
def test_no_host_process_or_mount_is_visible(rootfs: Path) -> None:
    result = secpolicy_run(
        "--rootfs", str(rootfs), "--", "/bin/sh", "-c", "ls -d /proc/[0-9]*; echo ---; cat /proc/self/mountinfo"
    )
    pids, _, mounts = result.stdout.partition("---\n")
    assert sorted(p.rsplit("/", 1)[1] for p in pids.split()) <= ["1", "2", "3", "4", "5"]
    assert str(rootfs) not in mounts
    assert " /work" not in mounts
    assert " /home" not in mounts
    assert len(mounts.splitlines()) < 40


@pytest.mark.parametrize(
    ("link", "target"),
    [("proc", "/etc"), ("dev", "/"), ("sys", "../../../../../.."), ("dev", "/tmp/../../etc")],
)
@needs_root
def test_symlinked_mount_targets_are_refused_not_followed(tmp_path: Path, link: str, target: str) -> None:
    root = make_rootfs(tmp_path / "links")
    (root / link).rmdir()
    (root / link).symlink_to(target)
    before = Path("/proc/self/mountinfo").read_text().count("\n")
    etc = sorted(os.listdir("/etc"))
    result = secpolicy_run("--rootfs", str(root), "-u", "1000", "--", "/bin/true")
    assert result.returncode == 125
    assert "symbolic link" in result.stderr
    assert Path("/proc/self/mountinfo").read_text().count("\n") == before
    assert sorted(os.listdir("/etc")) == etc


@needs_root
def test_bind_mount_targets_and_names_stay_in_the_rootfs(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "binds")
    (root / "data").symlink_to("/etc")  # inside the container this is the rootfs' own /etc
    (root / "host" / "etc").mkdir(parents=True)
    (root / "host" / "etc" / "passwd").write_text("app2:x:2000:2000::/:/bin/sh\n")
    (root / "etc" / "passwd").unlink()
    (root / "etc" / "passwd").symlink_to("/host/etc/passwd")
    source = tmp_path / "source"
    source.mkdir()
    (source / "file").write_text("mounted\n")
    config = tmp_path / "secpolicy.yaml"
    config.write_text(f"run:\n  allowed-bind-mounts: [{source}]\n")
    host_etc = sorted(os.listdir("/etc"))
    result = secpolicy_run(
        "--rootfs",
        str(root),
        "--config",
        str(config),
        "-u",
        "app2",
        "-v",
        f"{source}:/data:ro",
        "--",
        "/bin/sh",
        "-c",
        "id -u; cat /etc/file; touch /etc/file 2>/dev/null || echo read-only",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2000", "mounted", "read-only"]
    assert sorted(os.listdir("/etc")) == host_etc
    assert not (Path("/etc") / "file").exists()
    assert "file" not in os.listdir(root / "etc")  # unmounted again with the container's namespace
    daemon = secpolicy_run("--rootfs", str(root), "-u", "daemon", "--", "/bin/true")
    assert daemon.returncode == 125  # the host has a daemon user; the rootfs (through its link) does not
    assert "daemon" in daemon.stderr


@needs_root
def test_the_host_interpreter_is_out_of_reach(rootfs: Path) -> None:
    interpreter = os.path.realpath(sys.executable)
    before = hashlib.sha256(Path(interpreter).read_bytes()).hexdigest()
    probe = (
        "cat /proc/1/exe >/dev/null 2>&1 && echo read-exe;"
        "echo x >> /proc/1/exe 2>/dev/null && echo wrote-exe;"
        "ls /proc/1/root/ >/dev/null 2>&1 && echo saw-root;"
        "readlink /proc/1/fd/0 >/dev/null 2>&1 && echo saw-fd;"
        "readlink /proc/1/cwd >/dev/null 2>&1 && echo saw-cwd;"
        "cat /proc/1/environ >/dev/null 2>&1 && echo saw-environ;"
        "[ $(ls /proc/1/fd | wc -l) = 0 ] || echo init-holds-descriptors;"
        "echo done"
    )
    result = secpolicy_run("--rootfs", str(rootfs), "--audit", "--", "/bin/sh", "-c", probe)
    assert result.stdout.split() == ["done"], result.stderr  # root with Docker's default set, and still nothing
    for command in (["/proc/self/exe", "-c", "print(1)"], ["/proc/1/exe"]):
        refused = secpolicy_run("--rootfs", str(rootfs), "--audit", "--", *command)
        assert refused.returncode in (126, 127)
    (rootfs / "script").write_text("#!/proc/self/exe\nprint('escaped')\n")
    (rootfs / "script").chmod(0o755)
    script = secpolicy_run("--rootfs", str(rootfs), "--audit", "--", "/script")
    assert script.returncode == 126
    assert "/proc" in script.stderr
    assert "escaped" not in script.stdout
    (rootfs / "script").unlink()
    time.sleep(0.1)
    assert hashlib.sha256(Path(interpreter).read_bytes()).hexdigest() == before


@needs_root
def test_a_leaked_descriptor_is_not_a_way_out_through_the_working_directory(rootfs: Path) -> None:
    leaked = os.open("/", os.O_RDONLY)
    try:
        os.set_inheritable(leaked, True)
        result = secpolicy_run(
            "--rootfs", str(rootfs), "-u", "1000", "-w", f"/proc/self/fd/{leaked}", "--", "/bin/pwd", pass_fds=(leaked,)
        )
    finally:
        os.close(leaked)
    assert result.returncode == 125, result.stdout
    assert "working directory" in result.stderr
    assert result.stdout == ""


@needs_root
def test_the_import_lock_is_what_keeps_planted_modules_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A runtime that imported lazily inside the container would run the image's module; the lock stops it."""
    from secpolicy.runtime import bundled, oci, spec
    from secpolicy.runtime.plan import RunOptions, plan

    root = make_rootfs(tmp_path / "lazy")
    place = tmp_path / "host-path"
    place.mkdir()
    inside = root / str(place).lstrip("/")
    inside.mkdir(parents=True)
    (inside / "lazy_helper.py").write_text("import os\nos.write(2, b'TRAP ran inside\\n')\n")
    monkeypatch.syspath_prepend(str(place))  # the module exists on the host path only inside the rootfs

    def naive_lookup(name: str, path: str, interpreter: tuple[int, int]) -> str:
        import lazy_helper  # type: ignore[import-not-found]  # noqa: F401 - a lazy import inside the container

        return name

    monkeypatch.setattr(bundled, "find_program", naive_lookup)
    container = spec.read(oci.config(plan(RunOptions(root, ["/bin/true"], user="1000"))))
    code = bundled.Runtime().run(container)
    out = capfd.readouterr()
    assert "TRAP" not in out.err
    assert code == 125
    assert "no module may be imported inside the container (lazy_helper)" in out.err
    monkeypatch.setattr(bundled, "lock_imports", lambda: None)  # the naive runtime: the trap fires
    assert bundled.Runtime().run(container) == 0
    assert "TRAP ran inside" in capfd.readouterr().err


@needs_root
def test_ptrace_into_the_init_reaches_nothing_of_the_host(rootfs: Path) -> None:
    probe = (
        "grep -E '^(Uid|CapEff)' /proc/1/status; ls /proc/1/root/../..; echo ---; cat /proc/1/net/dev; echo ---;"
        "tr -d '\\000' < /proc/1/environ | wc -c; tr -d '\\000' < /proc/1/cmdline | wc -c"
    )
    flags = ["--rootfs", str(rootfs), "--audit", "--cap-add", "SYS_PTRACE", "--", "/bin/sh", "-c", probe]
    for _ in range(8):  # the command's first look at pid 1 already finds it joined and stripped, every time
        result = secpolicy_run(*flags, env={**os.environ, "SECRET_TOKEN": "hunter2"})
        assert result.returncode == 0, result.stderr
        listing, net, sizes = result.stdout.split("---\n")
        ids, caps_line, *names = listing.splitlines()
        assert ids.split()[1:] == [str(2**31 - 2)] * 4  # an unused uid
        assert caps_line.split() == ["CapEff:", "0000000000000020"]  # CAP_KILL alone
        assert sorted(names) == sorted(os.listdir(rootfs))  # the container's root, not the host's
        assert [line.split(":")[0].strip() for line in net.splitlines()[2:]] == ["lo"]  # its network
        assert sizes.split() == ["0", "0"]  # neither the caller's environment nor its command line


@needs_root
def test_a_mount_cannot_stand_in_for_the_containers_proc(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "decoy")
    (root / "data").symlink_to("/proc/self")
    (root / "decoy").mkdir()
    volume = tmp_path / "vol"
    (volume / "fd").mkdir(parents=True)
    for n in range(3, 65):
        (volume / "fd" / str(n)).symlink_to("/decoy")
    config = tmp_path / "secpolicy.yaml"
    config.write_text(f"run:\n  allowed-bind-mounts: [{volume}]\n")
    result = secpolicy_run(
        "--rootfs",
        str(root),
        "--config",
        str(config),
        "-u",
        "1000",
        "--read-only",
        "-v",
        f"{volume}:/data",
        "--",
        "true",
    )
    assert result.returncode == 125
    assert "inside /proc" in result.stderr


@needs_root
def test_an_id_out_of_range_is_refused_not_taken_for_root(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "ids")
    with (root / "etc" / "passwd").open("a") as fh:
        fh.write("svc:x:4294967295:4294967295::/:/bin/sh\nodd:x:\u00b2:1::/:/bin/sh\n")
    for user in ("svc", "4294967295", "1000:4294967295"):
        result = secpolicy_run("--rootfs", str(root), "-u", user, "--", "/bin/id", "-u")
        assert result.returncode == 125, (user, result.stdout)
        assert "outside 0-2147483647" in result.stderr
    odd = secpolicy_run("--rootfs", str(root), "-u", "odd", "--", "/bin/id", "-u")
    assert odd.returncode == 125
    assert "internal error" not in odd.stderr


@needs_root
@pytest.mark.parametrize("runtime", ["bundled", "runc"])
def test_an_ignored_sigchld_in_the_caller_changes_nothing(rootfs: Path, runtime: str) -> None:
    def ignore_sigchld() -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)

    result = secpolicy_run(
        "--rootfs",
        str(rootfs),
        "--runtime",
        runtime,
        "-u",
        "1000",
        "--",
        "/bin/sh",
        "-c",
        "exit 3",
        preexec_fn=ignore_sigchld,
        timeout=30,
    )
    assert result.returncode == 3, result.stderr


@needs_root
def test_every_catchable_signal_is_forwarded_and_none_kills_the_caller(rootfs: Path) -> None:
    script = (
        "trap 'echo got ALRM' ALRM; trap 'echo got USR1' USR1; trap '' TERM INT;"
        "echo ready; i=0; while [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; exit 7"
    )
    with started(rootfs, script) as proc:
        proc.send_signal(signal.SIGALRM)
        time.sleep(0.2)
        proc.send_signal(signal.SIGUSR1)
        for _ in range(30):  # a flood, until after the command has exited
            time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
                proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 7, err
    assert "got ALRM" in out
    assert "got USR1" in out
    assert "Traceback" not in err


@needs_root
def test_what_runc_does_with_stdio_and_the_working_directory(tmp_path: Path) -> None:
    root = make_rootfs(tmp_path / "cwd")
    (root / "root").mkdir(mode=0o700)
    (root / "cache").symlink_to("/var/cache/app")  # dangling: the mount point is created where it points
    result = secpolicy_run(
        "--rootfs",
        str(root),
        "-u",
        "1000",
        "-w",
        "/root",
        "--tmpfs",
        "/cache",
        "--",
        "/bin/sh",
        "-c",
        "pwd; echo to-stdout > /dev/stdout; ls -d /var/cache/app",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["/root", "to-stdout", "/var/cache/app"]
    created = secpolicy_run("--rootfs", str(root), "-u", "1000", "-w", "/srv/new", "--", "/bin/pwd")
    assert (created.returncode, created.stdout.strip()) == (0, "/srv/new")


@needs_root
def test_a_tty_with_piped_input_ends_when_the_input_does(rootfs: Path) -> None:
    result = secpolicy_run("--rootfs", str(rootfs), "-u", "1000", "-t", "--", "/bin/cat", input="hi\n", timeout=20)
    assert result.returncode == 0, result.stderr
    assert "hi" in result.stdout


@needs_root
def test_a_partial_last_line_under_a_tty_still_ends_the_input(rootfs: Path) -> None:
    result = secpolicy_run(
        "--rootfs", str(rootfs), "-u", "1000", "-t", "--", "/bin/cat", input="no newline", timeout=20
    )
    assert result.returncode == 0, result.stderr
    assert "no newline" in result.stdout


@needs_root
def test_a_named_pipe_of_the_host_keeps_its_owner(rootfs: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo, 0o600)
    holder = os.open(fifo, os.O_RDWR)  # both ends, so nothing blocks
    try:
        result = subprocess.run(
            [sys.executable, "-m", "secpolicy", "run", "--rootfs", str(rootfs), "-u", "1000", "--", "/bin/true"],
            stdout=holder,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(holder)
    assert result.returncode == 0, result.stderr
    assert fifo.stat().st_uid == 0


@needs_root
def test_a_tty_whose_reader_goes_away_does_not_hang_the_container(rootfs: Path) -> None:
    script = "i=0; while [ $i -lt 20000 ]; do echo line $i; i=$((i+1)); done; exit 5"
    command = [sys.executable, "-m", "secpolicy", "run", "--rootfs", str(rootfs), "-u", "1000", "-t", "--"]
    with subprocess.Popen(
        [*command, "/bin/sh", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"line 0")
        proc.stdout.close()  # as `| head -1` does
        assert proc.wait(timeout=30) == 5


@needs_root
def test_a_closed_stdin_of_the_caller_is_no_problem(rootfs: Path) -> None:
    def close_stdin() -> None:
        os.close(0)

    result = secpolicy_run(
        "--rootfs", str(rootfs), "-u", "1000", "--", "/bin/sh", "-c", "echo fine", preexec_fn=close_stdin
    )
    assert (result.returncode, result.stdout) == (0, "fine\n"), result.stderr
