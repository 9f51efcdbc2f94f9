"""What ``secpolicy run`` will start: the effective context lint would judge, plus the command line on top.

The start comes from the Dockerfile's target stage (``--from``: its USER,
ENV, WORKDIR, ENTRYPOINT and CMD) or from the image's own user (root unless
told otherwise); the flags then act like a container ``securityContext``
(``--user``, ``--cap-add``/``--cap-drop``, ``--privileged``,
``--read-only``, ``--security-opt no-new-privileges``) and set the process
(``-e``, ``--env-file``, ``-w``, ``--hostname``, ``--network``, ``--tmpfs``,
``-v``).  The same ``effective()`` that lint uses computes the context, so
the gate and lint judge the same thing.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from secpolicy.model import EffectiveContext, EffectiveUser, Provenance
from secpolicy.resolve.effective import Resolved, SecuritySpec, effective
from secpolicy.runtime.rootfs import ExecUser, RootfsError, user

if TYPE_CHECKING:
    from secpolicy.config import Config

FLAGS = Provenance("the command line")


class PlanError(Exception):
    """The run cannot be planned (a usage error: exit code 125, as docker run's own errors)."""


@dataclass(frozen=True)
class Mount:
    destination: str
    source: str | None  # None: a tmpfs
    read_only: bool = False


@dataclass
class RunOptions:
    rootfs: Path
    command: Sequence[str] = ()
    user: str | None = None
    group_add: Sequence[str] = ()
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()
    ambient: Sequence[str] = ()
    privileged: bool = False
    read_only: bool = False
    security_opt: Sequence[str] = ()
    env: Sequence[str] = ()
    env_file: Sequence[Path] = ()
    workdir: str | None = None
    hostname: str | None = None
    network: str = "none"
    tmpfs: Sequence[str] = ()
    volumes: Sequence[str] = ()
    dockerfile: Path | None = None
    target: str | None = None
    runtime: str = "docker"  # whose default capability set the container starts with


@dataclass
class RunPlan:
    context: EffectiveContext
    exec_user: ExecUser | None  # None: the user cannot be resolved (refused by the gate)
    args: list[str]
    env: dict[str, str]
    cwd: str
    hostname: str
    network: str
    mounts: list[Mount] = field(default_factory=list)
    rootfs: Path = Path("/")
    notes: list[str] = field(default_factory=list)


_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def plan(options: RunOptions, base: StageStart | PodStart | None = None) -> RunPlan:
    if isinstance(base, PodStart):
        return _pod_plan(options, base)
    base = base or StageStart(image_user=_image_root())
    exec_user = None
    wanted = options.user or (base.image_user.spec if base.image_user.known else None)
    if wanted is not None:
        try:
            exec_user = user(options.rootfs, wanted, tuple(options.group_add))
        except RootfsError as exc:
            raise PlanError(str(exc)) from None
    resolved_user = None
    if exec_user is not None:
        # names as the rootfs resolves them: the context (and the gate) see the numeric ids runc will use
        origin = "the command line" if options.user else str(base.image_user.source)
        ids = f"{exec_user.uid}:{exec_user.gid}"
        by_name = any(not part.isdigit() for part in (wanted or "").split(":"))
        via = f" ({wanted} is {ids} in the rootfs)" if by_name else ""
        resolved_user = Resolved(ids, Provenance(f"{origin}{via}"))
    spec = SecuritySpec(
        user=resolved_user,
        cap_add=Resolved(tuple(options.cap_add), FLAGS) if options.cap_add else None,
        cap_drop=Resolved(tuple(options.cap_drop), FLAGS) if options.cap_drop else None,
        privileged=Resolved(True, FLAGS) if options.privileged else None,
        no_new_privs=Resolved(True, FLAGS) if _no_new_privs(options.security_opt) else None,
        read_only_rootfs=Resolved(True, FLAGS) if options.read_only else None,
    )
    context = effective(
        "run", str(options.dockerfile or options.rootfs), base.target, spec, base.image_user, options.runtime
    )
    if exec_user is not None:
        from dataclasses import replace

        named = replace(context.user, name=exec_user.name, groups=exec_user.additional_gids)
        context = replace(context, user=named)
    context = _with_ambient(context, options.ambient)
    env = {"PATH": _DEFAULT_PATH, **base.env}
    if options.hostname:
        env["HOSTNAME"] = options.hostname
    for path in options.env_file:
        env.update(_env_file(path))
    for item in options.env:
        name, eq, value = item.partition("=")
        if not name:
            raise PlanError(f"-e {item!r}: not NAME=VALUE")
        env[name] = value if eq else ""
    if exec_user is not None and "HOME" not in env:
        env["HOME"] = exec_user.home
    args = list(options.command) or base.command()
    if not args:
        raise PlanError("no command: give one after --, or a Dockerfile (--from) with CMD or ENTRYPOINT")
    if options.workdir is not None and not options.workdir.startswith("/"):
        raise PlanError(f"-w {options.workdir}: the working directory must be an absolute path")
    if options.network not in ("none", "host"):
        raise PlanError(f"--network {options.network}: use none (a private network namespace) or host")
    mounts = [_tmpfs(t) for t in options.tmpfs] + [_bind(v) for v in options.volumes]
    return _as_started(
        RunPlan(
            context,
            exec_user,
            args,
            env,
            options.workdir or base.workdir or "/",
            options.hostname or "secpolicy",
            options.network,
            mounts,
            options.rootfs,
        )
    )


def _pod_plan(options: RunOptions, base: PodStart) -> RunPlan:
    """A pod's container: its context as lint resolves it, the flags replacing what they name."""
    from dataclasses import replace

    from secpolicy.resolve import capabilities
    from secpolicy.resolve.user import parse_user

    context = base.context
    if options.user:
        context = replace(context, user=parse_user(options.user, FLAGS), start_error=None)
    if options.privileged or options.cap_add or options.cap_drop:
        bounding = capabilities.bounding_set(
            context.capabilities.bounding, options.cap_add, options.cap_drop, privileged=options.privileged
        )
        context = replace(context, privileged=context.privileged or options.privileged)
        context = replace(context, capabilities=capabilities.held(bounding, context.user))
    if options.read_only:
        context = replace(context, read_only_rootfs=True)
    if _no_new_privs(options.security_opt):
        context = replace(context, no_new_privs=True)
    start = StageStart(context.user, context.target, base.env, base.workdir, [], base.command)
    who = context.user
    spec_text = options.user or who.spec
    pod_groups: tuple[str, ...] = ()
    if not options.user and who.known and who.uid is not None:
        # as containerd: the uid's memberships in the image's /etc/group, then supplementalGroups and
        # fsGroup; runAsGroup (when set) replaces the passwd group but not the memberships
        spec_text = str(who.uid)
        pod_groups = tuple(str(g) for g in who.groups or ())
    group_add = (*options.group_add, *pod_groups)
    decided = plan(replace(options, user=spec_text if who.known else None, group_add=group_add), start)
    if not options.user and who.known and who.gid is not None and decided.exec_user is not None:
        decided.exec_user = replace(decided.exec_user, gid=who.gid)
    if not context.user.known:
        decided.exec_user = None
    decided.context = replace(context, user=decided.context.user if context.user.known else context.user)
    decided.context = _with_ambient(decided.context, options.ambient)
    return _as_started(decided)


def _as_started(decided: RunPlan) -> RunPlan:
    """What secpolicy run cannot give yet is not claimed: no seccomp filter is installed."""
    from dataclasses import replace

    context = decided.context
    if context.seccomp != "Unconfined":
        note = f"secpolicy run installs no seccomp filter: the {context.seccomp} profile is not applied"
        if note not in decided.notes:
            decided.notes.append(note)
        provenance = {**context.provenance, "seccomp": Provenance("secpolicy run installs no seccomp filter")}
        decided.context = replace(context, seccomp="Unconfined", provenance=provenance)
    return decided


def _with_ambient(context: EffectiveContext, ambient: Sequence[str]) -> EffectiveContext:
    """``--ambient``: capabilities a non-root user holds after exec (as Podman grants ``--cap-add``)."""
    if not ambient:
        return context
    from dataclasses import replace

    from secpolicy.resolve import capabilities

    bounding = context.capabilities.bounding
    wanted = {capabilities.normalise(c) for c in ambient}
    if "" in wanted or "ALL" in wanted:
        raise PlanError(f"--ambient {' '.join(ambient)}: name known capabilities (NET_BIND_SERVICE, ...)")
    missing = sorted(wanted - set(bounding))
    if missing:
        raise PlanError(f"--ambient {', '.join(missing)}: not in the bounding set (add it with --cap-add)")
    return replace(context, capabilities=capabilities.held(bounding, context.user, wanted))


def _image_root() -> EffectiveUser:
    return EffectiveUser(
        0, 0, "root", True, Provenance("the rootfs sets no user: the container runs as root"), spec="0"
    )


def _no_new_privs(options: Sequence[str]) -> bool:
    for item in options:
        key, _, value = item.partition("=")
        key = key.strip()
        if key == "no-new-privileges" and value in ("", "true"):
            return True
        if key not in ("no-new-privileges",):
            raise PlanError(f"--security-opt {item!r}: only no-new-privileges is known")
    return False


def _env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError(f"--env-file {path}: cannot read it ({exc})") from None
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, eq, value = line.partition("=")
            out[name.strip()] = value if eq else ""
    return out


def _tmpfs(text: str) -> Mount:
    destination = text.split(":", 1)[0]
    if not destination.startswith("/"):
        raise PlanError(f"--tmpfs {text!r}: the destination must be an absolute path")
    return Mount(destination, None)


def _bind(text: str) -> Mount:
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
        raise PlanError(f"-v {text!r}: use HOST:CONTAINER[:ro]")
    if len(parts) == 3 and parts[2] not in ("ro", "rw"):
        raise PlanError(f"-v {text!r}: the mode is ro or rw")
    source = Path(parts[0])
    if not source.is_absolute():
        raise PlanError(f"-v {text!r}: the host path must be absolute")
    return Mount(parts[1], str(source), len(parts) == 3 and parts[2] == "ro")


@dataclass
class StageStart:
    """What a Dockerfile's target stage gives a container: user, env, workdir, entrypoint and cmd."""

    image_user: EffectiveUser
    target: str = "container"
    env: dict[str, str] = field(default_factory=dict)
    workdir: str | None = None
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)

    def command(self) -> list[str]:
        return [*self.entrypoint, *self.cmd]


def from_dockerfile(
    path: Path, target: str | None, build_args: dict[str, str] | None = None, cfg: Config | None = None
) -> StageStart:
    """The start a Dockerfile's target stage gives, resolved as lint resolves it (the same image map and table)."""
    from secpolicy import catalog, config, sources
    from secpolicy.engine import Engine, LintOptions

    options = LintOptions(build_args=build_args or {}, target=target, config=cfg or config.Config())
    engine = Engine(catalog.load(), options)
    try:
        text = sources.read(path)
    except sources.SourceError as exc:
        raise PlanError(f"{path}: {exc.reason}") from None
    df = engine.parse(text, str(path))
    if not hasattr(df, "stages"):
        raise PlanError(f"{path}: cannot read the Dockerfile: {getattr(df, 'message', df)}")
    try:
        analysis = engine.analyze(df)  # type: ignore[arg-type]
    except Exception as exc:  # a build error: the image would not build
        raise PlanError(f"{path}: {exc}") from None
    state = analysis.target
    env: dict[str, str] = {}
    workdir: str | None = None
    entrypoint: list[str] = []
    cmd: list[str] = []
    for stage_state in state.chain():
        for assignment in stage_state.assignments:
            if assignment.kind == "ENV" and assignment.value is not None:
                env[assignment.name] = getattr(assignment.value, "value", str(assignment.value))
        for inst in stage_state.stage.instructions:
            if inst.cmd == "workdir" and inst.args:
                workdir = (
                    inst.args[0] if inst.args[0].startswith("/") else f"{(workdir or '/').rstrip('/')}/{inst.args[0]}"
                )
            elif inst.cmd in ("cmd", "entrypoint"):
                words = list(inst.args) if inst.is_json else [*state.shell, " ".join(inst.args)]
                if inst.cmd == "entrypoint":
                    entrypoint, cmd = words, []  # ENTRYPOINT resets an inherited CMD
                else:
                    cmd = words
    return StageStart(state.user, f"stage {state.label}", env, workdir, entrypoint, cmd)


def quote(args: Sequence[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)


@dataclass
class PodStart:
    """What a pod's container gives the run: the context lint resolves for it, its command, env and working dir."""

    context: EffectiveContext
    command: list[str]
    env: dict[str, str]
    workdir: str | None


def from_pod(path: Path, container_name: str | None, cfg: Config, runtime: str) -> PodStart:
    from secpolicy import sources
    from secpolicy.kube import manifest
    from secpolicy.kube.nodes import Map, Seq
    from secpolicy.resolve.images import ImageResolver
    from secpolicy.resolve.kube import container_context

    try:
        text = sources.read(path, sources.MAX_MANIFEST_BYTES)
    except sources.SourceError as exc:
        raise PlanError(f"{path}: {exc.reason}") from None
    loaded = manifest.read(text, str(path), cfg.workloads)
    if loaded.problems:
        first = loaded.problems[0]
        raise PlanError(f"{path}:{first.line}: {first.message}")
    found = [(pod, c) for pod in loaded.pods for c in pod.containers if container_name in (None, c.name)]
    names = sorted({c.name for pod in loaded.pods for c in pod.containers})
    if not found:
        raise PlanError(f"{path}: no container {container_name!r} (it has: {', '.join(names) or 'none'})")
    if len(found) > 1:
        raise PlanError(f"{path}: several containers match; name one with --container ({', '.join(names)})")
    pod, container = found[0]
    context = container_context(pod, container, ImageResolver(cfg), runtime)
    raw: object = pod.template.spec.get(container.group) if isinstance(pod.template.spec, Map) else None
    item = raw[container.index] if isinstance(raw, Seq) and container.index < len(raw) else None
    command: list[str] = []
    workdir = None
    if isinstance(item, Map):
        for key in ("command", "args"):
            value = item.get(key)
            if isinstance(value, Seq):
                command += [str(v) for v in value]
        working = item.get("workingDir")
        workdir = working if isinstance(working, str) else None
    env = {e.name.value: e.value.value for e in container.env if e.value is not None}
    return PodStart(context, command, env, workdir)
