"""``secpolicy run`` itself: plan, gate, OCI config, start, given the command line as one request.

The typer command (``secpolicy/cli.py``) and the fast path (``argv.py``,
which skips importing typer for the common case) both build a
``RunRequest`` and call ``execute``; the exit code is the command's, 125
when secpolicy refuses or cannot start it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path


class Refused(Exception):
    """A message for the user and exit code 125 (as docker run's own errors)."""


@dataclass
class RunRequest:
    command: list[str] = field(default_factory=list)
    rootfs: Path = Path("rootfs")
    user: str | None = None
    group_add: list[str] = field(default_factory=list)
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    ambient: list[str] = field(default_factory=list)
    privileged: bool = False
    read_only: bool = False
    security_opt: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    env_file: list[Path] = field(default_factory=list)
    workdir: str | None = None
    hostname: str | None = None
    network: str = "none"
    tmpfs: list[str] = field(default_factory=list)
    volume: list[str] = field(default_factory=list)
    dockerfile: Path | None = None
    pod: Path | None = None
    container: str | None = None
    target: list[str] = field(default_factory=list)
    build_arg: list[str] = field(default_factory=list)
    runtime: str = "bundled"
    tty: bool = False
    dry_run: bool = False
    audit: bool = False
    config_file: Path | None = None


def split_ids(values: list[str]) -> list[str]:
    return [v.strip().upper() for raw in values for v in raw.split(",") if v.strip()]


def build_args(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in values:
        key, eq, value = raw.partition("=")
        if not key:
            raise Refused(f"--build-arg {raw!r}: expected KEY=VALUE")
        if eq:
            out[key] = value
        elif key in os.environ:
            out[key] = os.environ[key]
    return out


def _say(text: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(text + "\n")
    stream.flush()


def execute(request: RunRequest) -> int:
    try:
        return _execute(request)
    except Refused as exc:
        _say(f"secpolicy: {exc}", err=True)
        return 125


def _execute(r: RunRequest) -> int:
    from secpolicy import config
    from secpolicy.runtime import gate, oci
    from secpolicy.runtime import plan as planning
    from secpolicy.runtime.launch import RUNTIMES, LaunchError, run_with

    if r.runtime not in RUNTIMES:
        raise Refused(f"--runtime {r.runtime}: use {' or '.join(RUNTIMES)}")
    if not r.rootfs.is_dir():
        raise Refused(f"--rootfs {r.rootfs}: not a directory")
    if len(r.target) > 1:
        raise Refused(f"--target given {len(r.target)} times ({', '.join(r.target)}): give one stage")
    if r.dockerfile and r.pod:
        raise Refused("--from and --pod: give one of them")
    cfg_path = r.config_file or config.discover(Path.cwd())
    try:
        cfg = config.load(cfg_path) if cfg_path else config.Config()
    except config.ConfigError as exc:
        raise Refused(str(exc)) from None
    options = planning.RunOptions(
        rootfs=r.rootfs,
        command=r.command,
        user=r.user,
        group_add=r.group_add,
        cap_add=split_ids(r.cap_add),
        cap_drop=split_ids(r.cap_drop),
        ambient=split_ids(r.ambient),
        privileged=r.privileged,
        read_only=r.read_only,
        security_opt=r.security_opt,
        env=r.env,
        env_file=r.env_file,
        workdir=r.workdir,
        hostname=r.hostname,
        network=r.network,
        tmpfs=r.tmpfs,
        volumes=r.volume,
        dockerfile=r.dockerfile,
        target=r.target[0] if r.target else None,
        runtime=cfg.runtime if cfg.runtime in ("docker", "containerd") else "docker",
    )
    try:
        start: planning.StageStart | planning.PodStart | None = None
        if r.dockerfile:
            start = planning.from_dockerfile(r.dockerfile, options.target, build_args(r.build_arg), cfg)
        elif r.pod:
            start = planning.from_pod(r.pod, r.container, cfg, cfg.runtime)
        decided = planning.plan(options, start)
    except planning.PlanError as exc:
        raise Refused(str(exc)) from None
    violations = gate.judge(decided, cfg.run, options.runtime, rule_for_root="K8S201" if r.pod else "DF101")
    notes: list[str] = list(decided.notes)
    host = oci.host_bounding()
    spec = oci.config(decided, terminal=r.tty, host=host, notes=notes) if decided.exec_user is not None else None
    for note in notes:
        _say(f"secpolicy: note: {note}", err=True)
    if r.dry_run:
        from secpolicy.report import text as text_report

        _say(text_report.contexts([decided.context]).rstrip())
        _say(f"command       {planning.quote(decided.args)}")
        verdict = "refused" if violations else "allowed"
        _say(f"verdict       {verdict}" + "".join(f"\n  {v}" for v in violations))
        if spec is not None:
            import json

            _say(json.dumps(spec, indent=2))
        return 125 if violations and not r.audit else 0
    for violation in violations:
        _say(f"secpolicy: {'audit' if r.audit else 'refused'}: {violation}", err=True)
    if violations and not r.audit:
        return 125
    if spec is None:
        raise Refused("the user cannot be resolved, so there is nothing to start")
    try:
        return run_with(r.runtime, spec)
    except LaunchError as exc:
        raise Refused(str(exc)) from None
