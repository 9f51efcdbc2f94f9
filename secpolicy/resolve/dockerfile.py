"""The effective user of each Dockerfile stage, with the line that decided it.

Walks stages in order.  ``FROM <stage>`` inherits that stage's ENV, USER and
the users its RUN steps created; any other FROM starts from a base image
whose user comes from the image map, the built-in table, or stays unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from secpolicy.dockerfile.instructions import Dockerfile, Instruction, Stage
from secpolicy.dockerfile.lexer import Expansion
from secpolicy.model import EffectiveUser, Provenance
from secpolicy.resolve.images import scratch_user
from secpolicy.resolve.scope import PLATFORM_ARGS, Scope, stored
from secpolicy.resolve.user import numeric, parse_user
from secpolicy.shell.invocations import invocations

BaseLookup = Callable[[str], EffectiveUser]


class TargetNotFound(LookupError):
    pass


@dataclass
class Assignment:
    instruction: Instruction
    kind: str  # "ARG" or "ENV"
    name: str
    raw: str | None
    value: Expansion | None


@dataclass
class StageState:
    stage: Stage
    parent: StageState | None
    base: Expansion
    user: EffectiveUser
    user_instruction: Instruction | None
    scope: Scope
    created: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    assignments: list[Assignment] = field(default_factory=list)
    expanded: dict[int, list[Expansion]] = field(default_factory=dict)
    shell: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])
    shell_at: dict[int, list[str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.stage.label

    def chain(self) -> list[StageState]:
        """This stage and its FROM ancestors, root first."""
        out: list[StageState] = []
        node: StageState | None = self
        while node is not None:
            out.append(node)
            node = node.parent
        return out[::-1]


@dataclass
class Analysis:
    dockerfile: Dockerfile
    states: list[StageState]
    target: StageState
    reachable: list[StageState]
    # derived views that several checks share (e.g. the programs RUN starts)
    memo: dict[str, object] = field(default_factory=dict)

    @property
    def escape(self) -> str:
        return self.dockerfile.parsed.escape


def analyze(
    df: Dockerfile,
    *,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    base_user: BaseLookup,
) -> Analysis:
    build_args = dict(build_args or {})
    escape = df.parsed.escape
    meta = Scope(closed=True)
    for name in PLATFORM_ARGS:
        meta.args[name] = None
    for inst in df.meta_args:
        for word in inst.args:
            _declare_arg(meta, word, build_args, None, escape)
    states: list[StageState] = []
    by_name: dict[str, StageState] = {}
    for stage in df.stages:
        state = _evaluate(df, stage, meta, build_args, by_name, base_user)
        states.append(state)
        if stage.name:
            by_name[stage.name] = state
    if target is None:
        chosen = states[-1]
    else:
        match = df.stage(target)
        if match is None:
            names = ", ".join(s.label for s in df.stages)
            raise TargetNotFound(f"target stage {target!r} not found (stages: {names})")
        chosen = states[match.index]
    return Analysis(df, states, chosen, _reachable(chosen, states, by_name))


def _declare_arg(
    scope: Scope, word: str, build_args: Mapping[str, str], meta: Scope | None, escape: str
) -> Expansion | None:
    """Declare ``NAME[=default]``; return the expanded default, if any."""
    name, eq, default = word.partition("=")
    expanded = scope.expand(default, escape) if eq else None
    if name in build_args:
        scope.args[name] = build_args[name]
    elif expanded is not None:
        scope.args[name] = stored(expanded)
    elif meta is not None and name in meta.args:
        # a bare ARG in a stage picks up the global ARG's value
        scope.args[name] = meta.args[name]
    else:
        scope.args[name] = None
    return expanded


def _evaluate(
    df: Dockerfile,
    stage: Stage,
    meta: Scope,
    build_args: Mapping[str, str],
    by_name: dict[str, StageState],
    base_user: BaseLookup,
) -> StageState:
    escape = df.parsed.escape
    base = meta.expand(stage.base, escape)
    parent = by_name.get(base.value.lower()) if base.resolved else None
    if parent is not None:
        scope = parent.scope.child()
        user, user_inst = parent.user, parent.user_instruction
        created = dict(parent.created)
    else:
        is_scratch = base.resolved and base.value.lower() == "scratch"
        scope = Scope(closed=is_scratch)
        if is_scratch:
            user = scratch_user()
        elif not base.resolved or not base.value.strip():
            why = _why(base) or "the image name is empty"
            user = EffectiveUser(
                None,
                None,
                None,
                False,
                Provenance(f"FROM {stage.base}", df.path, stage.from_.line),
                reason=f"base image {stage.base} cannot be resolved: {why}",
            )
        else:
            user = base_user(base.value)
        user_inst = None
        created = {}
    state = StageState(stage, parent, base, user, user_inst, scope, created)
    if parent is not None:
        state.shell = parent.shell
    for inst in stage.instructions:
        _apply(df, state, inst, meta, build_args, escape)
    return state


def _apply(
    df: Dockerfile,
    state: StageState,
    inst: Instruction,
    meta: Scope,
    build_args: Mapping[str, str],
    escape: str,
) -> None:
    scope = state.scope
    cmd = inst.cmd
    if cmd == "arg":
        for word in inst.args:
            name, eq, default = word.partition("=")
            value = _declare_arg(scope, word, build_args, meta, escape)
            state.assignments.append(Assignment(inst, "ARG", name, default if eq else None, value))
    elif cmd == "env":
        pairs = [(k, v, scope.expand(v, escape)) for k, v in inst.pairs()]
        for key, raw, exp in pairs:
            scope.env[key] = stored(exp)
            state.assignments.append(Assignment(inst, "ENV", key, raw, exp))
    elif cmd == "user":
        exp = scope.expand(inst.args[0], escape)
        state.user = _user_from(exp, inst, df.path, state.created, meta)
        state.user_instruction = inst
    elif cmd in ("copy", "add"):
        state.expanded[id(inst)] = [scope.expand(a, escape) for a in inst.args]
    elif cmd == "run":
        state.shell_at[id(inst)] = state.shell
        _record_created_users(inst, state.created)
    elif cmd == "shell" and inst.is_json and inst.args:
        state.shell = list(inst.args)


def _why(exp: Expansion, meta: Scope | None = None) -> str:
    parts = []
    for name in sorted(exp.unknown):
        if name.startswith("<"):
            parts.append(name.strip("<>"))
        elif meta is not None and name in meta.args:
            parts.append(
                f"ARG {name} is declared before FROM but not re-declared in this stage (add 'ARG {name}' after FROM)"
            )
        else:
            parts.append(f"${name} is not defined in this Dockerfile (it may come from the base image)")
    for name in sorted(exp.unset):
        parts.append(f"ARG {name} has no value (pass --build-arg {name}=...)")
    return "; ".join(parts)


def _user_from(
    exp: Expansion,
    inst: Instruction,
    path: str,
    created: dict[str, tuple[int | None, int | None]],
    meta: Scope,
) -> EffectiveUser:
    raw = inst.args[0]
    source = Provenance(f"USER {raw}", path, inst.line)
    value = exp.value.strip()
    if not exp.resolved or (exp.unset and (not value or value.startswith(":") or value.endswith(":"))):
        return EffectiveUser(
            None, None, None, False, source, spec=raw, reason=f"USER {raw} cannot be resolved: {_why(exp, meta)}"
        )
    if not value:
        return EffectiveUser(None, None, None, False, source, spec=raw, reason=f"USER {raw} expands to an empty string")
    return parse_user(value, source, created)


def _record_created_users(inst: Instruction, created: dict[str, tuple[int | None, int | None]]) -> None:
    """Remember ``useradd -u N name`` so a later ``USER name`` has a uid."""
    scripts = [" ".join(inst.args)] if not inst.is_json else []
    scripts += [doc.content for doc in inst.heredocs]
    for script in scripts:
        if "useradd" not in script and "adduser" not in script:
            continue
        for inv in invocations(script):
            if inv.name in ("useradd", "adduser"):
                name, uid, gid = _useradd(inv.args)
                if name and "$" not in name:
                    created[name] = (uid, gid)


def _useradd(args: tuple[str, ...]) -> tuple[str | None, int | None, int | None]:
    uid = gid = None
    name = None
    i = 0
    takes_value = {
        "-u",
        "--uid",
        "-g",
        "--gid",
        "-G",
        "--groups",
        "-d",
        "--home",
        "--home-dir",
        "-s",
        "--shell",
        "-c",
        "--comment",
        "--gecos",
        "-h",
        "-k",
        "-K",
        "-e",
        "-f",
        "--ingroup",
        "-p",
    }
    while i < len(args):
        arg = args[i]
        if arg.startswith("--") and "=" in arg:
            key, _, value = arg.partition("=")
            if key == "--uid":
                uid = numeric(value)
        elif arg in takes_value and i + 1 < len(args):
            if arg in ("-u", "--uid"):
                uid = numeric(args[i + 1])
            elif arg in ("-g", "--gid"):
                gid = numeric(args[i + 1])
            i += 1
        elif arg.startswith("-u") and len(arg) > 2 and numeric(arg[2:]) is not None:
            uid = numeric(arg[2:])
        elif not arg.startswith("-") and name is None:
            name = arg
        i += 1
    return name, uid, gid


def _reachable(target: StageState, states: list[StageState], by_name: dict[str, StageState]) -> list[StageState]:
    """Stages a build of ``target`` runs: FROM ancestry plus --from sources."""
    seen: dict[int, StageState] = {}
    todo = [target]
    while todo:
        state = todo.pop()
        if state.stage.index in seen:
            continue
        seen[state.stage.index] = state
        if state.parent:
            todo.append(state.parent)
        for inst in state.stage.instructions:
            refs = [inst.flag("from")] if inst.cmd in ("copy", "add") else []
            if inst.cmd == "run":
                refs += [_mount_from(v) for v in inst.flag_values("mount")]
            for ref in refs:
                other = _stage_ref(ref, states, by_name, state.stage.index)
                if other is not None:
                    todo.append(other)
    return [seen[i] for i in sorted(seen)]


def _mount_from(spec: str) -> str | None:
    for part in spec.split(","):
        key, _, value = part.partition("=")
        if key.strip() == "from":
            return value.strip()
    return None


def _stage_ref(
    ref: str | None, states: list[StageState], by_name: dict[str, StageState], before: int
) -> StageState | None:
    if not ref:
        return None
    if ref.isdigit():
        index = int(ref)
        return states[index] if index < before else None
    return by_name.get(ref.lower())
