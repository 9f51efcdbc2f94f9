"""The effective user of each Dockerfile stage, with the line that decided it.

``FROM <stage>`` inherits that stage's environment (ENV and ARG values), its
USER, the users its RUN steps created, its SHELL, and first runs that stage's
``ONBUILD`` triggers (BuildKit ``convert.go``: ``dispatchState.init``,
``resolveStages`` → ``initOnBuildTriggers``).  Any other FROM starts from a
base image whose user comes from the image map, the built-in table, or stays
unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from secpolicy.dockerfile.instructions import Dockerfile, Instruction, Stage, check
from secpolicy.dockerfile.lexer import Expansion, TooComplex
from secpolicy.dockerfile.mounts import Mount, parse_mount
from secpolicy.dockerfile.syntax import DockerfileSyntaxError
from secpolicy.model import EffectiveContext, EffectiveUser, Location, Provenance
from secpolicy.reference import InvalidReference, parse, try_parse
from secpolicy.resolve.accounts import Account, accounts_created
from secpolicy.resolve.images import BaseImage, scratch_user
from secpolicy.resolve.scope import PLATFORM_ARGS, UNKNOWN, Scope, stored
from secpolicy.resolve.signals import is_signal
from secpolicy.resolve.sudoers import SudoRule, sudo_rules
from secpolicy.resolve.user import parse_user

if TYPE_CHECKING:
    from secpolicy.checks.base import Step

BaseLookup = Callable[[str], "EffectiveUser | BaseImage"]  # a bare user: nothing known of the image's Env
_TOO_COMPLEX = "secpolicy cannot analyse this file: "


class TargetNotFound(LookupError):
    pass


class BuildError(ValueError):
    """BuildKit would refuse to build this Dockerfile (or secpolicy cannot analyse it)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class Assignment:
    instruction: Instruction
    kind: str  # "ARG" or "ENV"
    name: str
    raw: str | None
    value: Expansion | None
    onbuild_of: str | None = None  # the stage whose ONBUILD trigger this came from


@dataclass(eq=False)
class StageState:
    stage: Stage
    parent: StageState | None
    base: Expansion
    user: EffectiveUser
    user_instruction: Instruction | None
    user_onbuild_of: str | None = None  # set when an inherited ONBUILD USER decided the user
    assignments: list[Assignment] = field(default_factory=list)
    expanded: dict[Instruction, list[Expansion]] = field(default_factory=dict)
    shell: list[str] = field(default_factory=lambda: ["/bin/sh", "-c"])
    shell_at: dict[Instruction, list[str]] = field(default_factory=dict)
    mounts: dict[Instruction, list[Mount]] = field(default_factory=dict)  # RUN --mount, values expanded
    triggers_run: list[Instruction] = field(default_factory=list)  # the parent's ONBUILD triggers
    errors: list[BuildError] = field(default_factory=list)
    sudo_rules: list[SudoRule] = field(default_factory=list)  # NOPASSWD rules this stage writes
    # the accounts the stage chain made, as the stage ends (kept for the target stage only)
    accounts: dict[str, Account] = field(default_factory=dict)

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
    # the target's effective context under a default runtime: what user rules judge and resolve prints
    context: EffectiveContext
    # the programs every reachable RUN starts, worked out once for all checks (checks.base.run_steps)
    steps: list[Step] | None = None

    @property
    def anchor(self) -> Location:
        """Where a finding about the target stage as a whole points: its FROM line."""
        inst = self.target.stage.from_
        return Location(self.dockerfile.path, inst.line, inst.column, inst.node.end_line)

    def build_error(self) -> BuildError | None:
        """The first error BuildKit would stop a build of the target at."""
        errors = [e for s in self.reachable for e in s.errors]
        return min(errors, key=lambda e: e.line) if errors else None


def _fail_on(exp: Expansion, line: int, errors: list[BuildError]) -> None:
    if exp.error is not None:
        prefix = _TOO_COMPLEX if isinstance(exp.error, TooComplex) else ""
        errors.append(BuildError(prefix + str(exp.error), line))


def analyze(
    df: Dockerfile,
    *,
    build_args: Mapping[str, str] | None = None,
    target: str | None = None,
    base_user: BaseLookup,
) -> Analysis:
    """Resolve every stage; raise BuildError where BuildKit fails whatever the target."""
    build_args = dict(build_args or {})
    escape = df.parsed.escape
    meta = Scope(closed=True)
    for name in PLATFORM_ARGS:
        # the builder sets these from the build and target platforms (defaultArgs): not known statically
        meta.set(name, build_args.get(name, UNKNOWN))
    errors: list[BuildError] = []
    for inst in df.meta_args:
        for word in inst.args:
            _declare_arg(meta, word, build_args, None, escape, inst.line, errors)
            if errors:
                raise errors[0]  # buildMetaArgs: an error in a global ARG fails every build
    bases: list[Expansion] = []
    parents: list[int | None] = []
    by_name: dict[str, int] = {}
    for stage in df.stages:
        base = meta.expand(stage.base, escape)
        line = stage.from_.line
        _fail_on(base, line, errors)
        if errors:
            raise errors[0]  # buildDispatchStates
        if base.resolved and not base.unset:
            if base.value == "":
                raise BuildError(f"base name ({stage.base}) should not be blank", line)
            if base.value not in by_name and base.value != "scratch":
                try:
                    parse(base.value)  # resolveBaseImage runs for every stage, reachable or not
                except InvalidReference as exc:
                    raise BuildError(f'failed to parse stage name "{base.value}": {exc}', line) from None
        bases.append(base)
        # addState: the expanded name, exactly, among the stages defined so far
        parents.append(by_name.get(base.value) if base.resolved else None)
        if stage.name:
            by_name[stage.name] = stage.index
    if target is None:
        chosen_index = len(df.stages) - 1
    else:
        match = df.stage(target)
        if match is None:
            names = ", ".join(s.label for s in df.stages)
            raise TargetNotFound(f"target stage {target!r} not found (stages: {names})")
        chosen_index = match.index
    states = _evaluate_all(df, bases, parents, meta, build_args, base_user, chosen_index)
    states_by_name = {name: states[index] for name, index in by_name.items()}
    chosen = states[chosen_index]
    for state in states:
        for error in state.errors:
            if error.message.startswith(_TOO_COMPLEX):
                raise error  # a limit of this analysis: the file is not analysed, whatever the target
    from secpolicy.resolve.effective import stage_context

    return Analysis(df, states, chosen, _reachable(chosen, states, states_by_name), stage_context(df.path, chosen))


def _evaluate_all(
    df: Dockerfile,
    bases: list[Expansion],
    parents: list[int | None],
    meta: Scope,
    build_args: Mapping[str, str],
    base_user: BaseLookup,
    target: int,
) -> list[StageState]:
    """Depth first over the FROM tree, one scope and one account table with undo logs."""
    children: dict[int, list[int]] = {}
    for index, parent in enumerate(parents):
        if parent is not None:
            children.setdefault(parent, []).append(index)
    states: list[StageState | None] = [None] * len(df.stages)
    for root, parent in enumerate(parents):
        if parent is not None:
            continue
        base = bases[root]
        is_scratch = base.resolved and base.value == "scratch"
        image = None if is_scratch or not _resolvable(base) else _as_image(base_user(base.value))
        # the base image's Env is the stage's first scope: "USER $APP_UID" on a .NET image resolves
        scope = Scope(closed=is_scratch or (image is not None and image.env_complete))
        for name, value in (image.env if image is not None else {}).items():
            scope.set(name, value)
        accounts = _Accounts()
        todo: list[tuple[int, int, int]] = [(root, -1, -1)]
        while todo:
            index, scope_mark, accounts_mark = todo.pop()
            if scope_mark >= 0:
                scope.undo(scope_mark)
                accounts.undo(accounts_mark)
                continue
            mark = (scope.mark(), accounts.mark())
            parent_index = parents[index]
            parent_state = states[parent_index] if parent_index is not None else None
            state = _evaluate(
                df, df.stages[index], bases[index], parent_state, scope, accounts, meta, build_args, image
            )
            if index == target:
                state.accounts = dict(accounts.by_name)  # once, for the judged stage
            states[index] = state
            todo.append((index, *mark))
            todo.extend((child, -1, -1) for child in reversed(children.get(index, [])))
    return [s for s in states if s is not None]


def _resolvable(base: Expansion) -> bool:
    """Is the FROM a name the image resolver can look up (not an ARG without a value, not empty)?"""
    return base.resolved and bool(base.value.strip()) and not (base.unset and try_parse(base.value) is None)


def _as_image(found: EffectiveUser | BaseImage) -> BaseImage:
    return found if isinstance(found, BaseImage) else BaseImage(found)


class _Accounts:
    """Users made by ``useradd``/``adduser`` in the stage chain, with an undo log."""

    def __init__(self) -> None:
        self.by_name: dict[str, Account] = {}
        self.log: list[tuple[str, Account | None]] = []

    def add(self, account: Account) -> None:
        old = self.by_name.get(account.name)
        self.log.append((account.name, old))
        self.by_name[account.name] = account.merged(old)

    def mark(self) -> int:
        return len(self.log)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            name, old = self.log.pop()
            if old is None:
                del self.by_name[name]
            else:
                self.by_name[name] = old


def _declare_arg(
    scope: Scope,
    word: str,
    build_args: Mapping[str, str],
    meta: Scope | None,
    escape: str,
    line: int,
    errors: list[BuildError],
) -> Expansion | None:
    """``ARG NAME[=default]`` as ``dispatchArg`` does it; return the expanded default, if used."""
    name, eq, default = word.partition("=")
    if name in build_args:
        scope.set(name, build_args[name])
        return None
    if eq:
        expanded = scope.expand(default, escape)
        _fail_on(expanded, line, errors)
        scope.set(name, stored(expanded))
        return expanded
    if meta is not None and name in meta.env:
        # a bare ARG in a stage picks up the global ARG's value
        scope.set(name, meta.env[name])
        return None
    scope.declare(name)
    return None


def _evaluate(
    df: Dockerfile,
    stage: Stage,
    base: Expansion,
    parent: StageState | None,
    scope: Scope,
    accounts: _Accounts,
    meta: Scope,
    build_args: Mapping[str, str],
    image: BaseImage | None,
) -> StageState:
    if parent is not None:
        user, user_inst = parent.user, parent.user_instruction
    elif base.resolved and base.value == "scratch":
        user, user_inst = scratch_user(), None
    elif image is None:
        # FROM $BASE / ${REGISTRY}/app with an ARG that has no value: the build passes it with --build-arg
        why = _why(base) or "the image name is empty"
        user = EffectiveUser(
            None,
            None,
            None,
            False,
            Provenance(f"FROM {stage.base}", df.path, stage.from_.line),
            reason=f"base image {stage.base} cannot be resolved: {why}",
        )
        user_inst = None
    else:
        user, user_inst = image.user, None
    state = StageState(stage, parent, base, user, user_inst)
    if parent is not None:
        state.shell = parent.shell
        state.user_onbuild_of = parent.user_onbuild_of
        triggers = [t for t in (inst.onbuild for inst in parent.stage.instructions if inst.cmd == "onbuild") if t]
        state.triggers_run = triggers
        for trigger in triggers:
            try:
                check(trigger.node)
            except DockerfileSyntaxError as exc:
                state.errors.append(BuildError(f"ONBUILD trigger of stage {parent.label}: {exc.message}", trigger.line))
                continue
            _apply(df, state, trigger, scope, accounts, meta, build_args, onbuild_of=parent.label)
    for inst in stage.instructions:
        _apply(df, state, inst, scope, accounts, meta, build_args)
    return state


def _apply(
    df: Dockerfile,
    state: StageState,
    inst: Instruction,
    scope: Scope,
    accounts: _Accounts,
    meta: Scope,
    build_args: Mapping[str, str],
    *,
    onbuild_of: str | None = None,
) -> None:
    escape = df.parsed.escape
    cmd = inst.cmd
    line = inst.line
    if cmd == "arg":
        for word in inst.args:
            name, eq, default = word.partition("=")
            value = _declare_arg(scope, word, build_args, meta, escape, line, state.errors)
            state.assignments.append(Assignment(inst, "ARG", name, default if eq else None, value, onbuild_of))
    elif cmd == "env":
        # every value is expanded against the scope before this ENV (expandKvpsInPlace)
        pairs = [(k, v, scope.expand(v, escape)) for k, v in inst.pairs()]
        for key, raw, exp in pairs:
            _fail_on(exp, line, state.errors)
            scope.set(key, stored(exp))
            state.assignments.append(Assignment(inst, "ENV", key, raw, exp, onbuild_of))
    elif cmd == "user":
        exp = scope.expand(inst.args[0], escape)
        _fail_on(exp, line, state.errors)
        state.user = _user_from(exp, inst, df.path, accounts.by_name, meta, onbuild_of)
        state.user_instruction = inst
        state.user_onbuild_of = onbuild_of
    elif cmd in ("copy", "add"):
        expanded = [scope.expand(a, escape) for a in inst.args]
        for flag in ("chown", "chmod", "from"):
            flag_value = inst.flag(flag)
            if flag_value is not None:
                _fail_on(scope.expand(flag_value, escape), line, state.errors)
        for exp in expanded:
            _fail_on(exp, line, state.errors)
        state.expanded[inst] = expanded
        if inst.heredocs and expanded and "sudoers" in expanded[-1].value:
            for doc in inst.heredocs:
                state.sudo_rules += sudo_rules(doc.content, doc.line, _expander(scope, escape))
    elif cmd in ("workdir", "volume", "stopsignal"):
        for arg in inst.args:
            exp = scope.expand(arg, escape)
            _fail_on(exp, line, state.errors)
            if (
                cmd == "stopsignal"
                and exp.error is None
                and exp.resolved
                and not exp.unset
                and not is_signal(exp.value)
            ):
                state.errors.append(BuildError(f"Invalid signal: {exp.value}", line))  # dispatchStopSignal
    elif cmd == "label":
        for label_key, label_value in inst.pairs():
            _fail_on(scope.expand(label_key, escape), line, state.errors)
            _fail_on(scope.expand(label_value, escape), line, state.errors)
    elif cmd == "run":
        state.shell_at[inst] = state.shell
        expand = _expander(scope, escape)
        mounts = [parse_mount(value, expand) for value in inst.flag_values("mount")]
        state.mounts[inst] = [m for m in mounts if m is not None]
        for account in accounts_created(inst):
            accounts.add(account)
        scripts = [" ".join(inst.args), *(doc.content for doc in inst.heredocs)]
        for script in scripts:
            if "sudoers" in script:
                state.sudo_rules += sudo_rules(script, line, _expander(scope, escape))
    elif cmd == "shell" and inst.is_json and inst.args:
        state.shell = list(inst.args)


def _expander(scope: Scope, escape: str) -> Callable[[str], str | None]:
    def expand(word: str) -> str | None:
        exp = scope.expand(word, escape)
        return exp.value if exp.resolved and not exp.unset and exp.error is None else None

    return expand


def _why(exp: Expansion, meta: Scope | None = None) -> str:
    parts = []
    for name in sorted(exp.unknown):
        if name.startswith("<"):
            parts.append(name.strip("<>"))
        elif name in PLATFORM_ARGS:
            parts.append(
                f"${name} is set by the builder from the platform it builds for "
                f"(pass --build-arg {name}=... to lint for one platform)"
            )
        elif meta is not None and (name in meta.env or name in meta.declared):
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
    created: Mapping[str, Account],
    meta: Scope,
    onbuild_of: str | None,
) -> EffectiveUser:
    raw = inst.args[0]
    prefix = f"ONBUILD USER {raw} of stage {onbuild_of}" if onbuild_of else f"USER {raw}"
    source = Provenance(prefix, path, inst.line)
    value = exp.value.strip()
    if not exp.resolved or (exp.unset and (not value or value.startswith(":") or value.endswith(":"))):
        return EffectiveUser(
            None, None, None, False, source, spec=raw, reason=f"{prefix} cannot be resolved: {_why(exp, meta)}"
        )
    if not value:
        return EffectiveUser(None, None, None, False, source, spec=raw, reason=f"{prefix} expands to an empty string")
    return parse_user(value, source, {name: (a.uid, a.gid) for name, a in created.items()})


def _reachable(target: StageState, states: list[StageState], by_name: dict[str, StageState]) -> list[StageState]:
    """Stages a build of ``target`` runs: FROM ancestry plus --from sources (ONBUILD triggers too)."""
    seen: dict[int, StageState] = {}
    todo = [target]
    while todo:
        state = todo.pop()
        if state.stage.index in seen:
            continue
        seen[state.stage.index] = state
        if state.parent:
            todo.append(state.parent)
        for inst in [*state.triggers_run, *state.stage.instructions]:
            refs = [inst.flag("from")] if inst.cmd in ("copy", "add") else []
            if inst.cmd == "run":
                refs += [_mount_from(v) for v in inst.flag_values("mount")]
            for ref in refs:
                other = _stage_ref(ref, states, by_name, state.stage.index)
                if other is not None:
                    todo.append(other)
    return [seen[i] for i in sorted(seen)]


def _mount_from(spec: str) -> str | None:
    mount = parse_mount(spec)
    return mount.from_ if mount is not None else None


def _stage_ref(
    ref: str | None, states: list[StageState], by_name: dict[str, StageState], before: int
) -> StageState | None:
    if not ref:
        return None
    if ref.isdigit():
        index = int(ref) if len(ref) < 8 else len(states)
        return states[index] if index < before else None
    return by_name.get(ref.lower())
