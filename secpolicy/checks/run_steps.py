"""Checks on what RUN steps do with privileges (DF104, DF201-DF203)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from secpolicy.checks.base import Hit, Params, Step, run_instructions, run_steps, stage_label
from secpolicy.dockerfile.instructions import Instruction
from secpolicy.resolve.dockerfile import Analysis, StageState
from secpolicy.resolve.user import numeric
from secpolicy.shell.invocations import SHELLS, Invocation, find_type, invocations, unwrap
from secpolicy.shell.modes import SETGID, SETUID, is_mode, special_bits_set


def _where(step: Step) -> str:
    prefix = "ONBUILD " if step.onbuild else ""
    return f"{prefix}RUN in {stage_label(step.state)}"


def _switch_target(args: tuple[str, ...]) -> str | None:
    """The user ``su``-like tools switch to (``None`` means root by default)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-u" and i + 1 < len(args):
            return args[i + 1]
        if arg in ("-c", "--command", "-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w"):
            i += 2
            continue
        if arg == "-" or arg.startswith("-"):
            i += 1
            continue
        return arg
    return None


def _is_root(user: str | None) -> bool:
    """``su``/``gosu``/``su-exec`` targets: ``root``, ``0``, ``00``, ``+0``, and any of them with ``:group``."""
    if user is None:
        return True
    name = user.split(":", 1)[0]
    return name == "root" or numeric(name) == 0


def _start_commands(analysis: Analysis) -> Iterator[tuple[Instruction, Invocation, str]]:
    """What the container starts with: the target chain's last ENTRYPOINT and last CMD."""
    last: dict[str, tuple[Instruction, StageState]] = {}
    for state in analysis.target.chain():
        for inst in [*state.triggers_run, *state.stage.instructions]:
            if inst.cmd in ("cmd", "entrypoint"):
                last[inst.cmd] = (inst, state)
    for cmd in ("entrypoint", "cmd"):
        if cmd not in last:
            continue
        inst, state = last[cmd]
        if inst.is_json:
            for inv in unwrap(inst.args):
                yield inst, inv, cmd.upper()
        elif inst.args and (not state.shell or state.shell[0].rsplit("/", 1)[-1] in SHELLS):
            for inv in invocations(inst.args[0]):
                yield inst, inv, cmd.upper()


def _run_as(args: tuple[str, ...]) -> str | None:
    """The ``-u USER`` of ``sudo``/``doas`` (``None``: root, their default)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-u", "--user") and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--user="):
            return arg.partition("=")[2]
        if arg.startswith("-u") and len(arg) > 2 and not arg.startswith("--"):
            return arg[2:]
        if not arg.startswith("-") or arg == "--":
            return None  # the command starts: no -u given
        i += 1
    return None


@dataclass(frozen=True)
class _Tools:
    gain: frozenset[str]  # sudo, doas: root unless -u names another user
    switch_to_root: frozenset[str]  # su: root unless a user is named
    drop: frozenset[str]  # gosu, su-exec: fine unless they switch to root

    def gains_root(self, inv: Invocation) -> str | None:
        """How ``inv`` gains root ("sudo", "su to root", "gosu root"), or None."""
        if inv.name in self.gain:
            return inv.name if _is_root(_run_as(inv.args)) else None  # "sudo -u app" drops, like "su app -c"
        if inv.name in self.switch_to_root and _is_root(_switch_target(inv.args)):
            return f"{inv.name} to root"
        if inv.name in self.drop and inv.args and _is_root(inv.args[0]):
            return f"{inv.name} {inv.args[0]}"
        return None

    def run_message(self, inv: Invocation, how: str) -> str:
        if inv.name in self.gain:
            return f"uses {inv.name}: build steps already run as the stage's USER; set USER instead"
        if inv.name in self.switch_to_root:
            return f"uses {inv.name} to become root"
        return f"uses {how}: that gains root instead of dropping it"


@dataclass(frozen=True)
class PrivilegeToolParams:
    tools: tuple[str, ...] = ("sudo", "doas")  # gain root unless -u names another user
    switch_to_root: tuple[str, ...] = ("su",)  # root unless a user is named
    drop_tools: tuple[str, ...] = ("gosu", "su-exec")  # fine unless they switch to root


def privilege_tool(analysis: Analysis, params: PrivilegeToolParams) -> Iterator[Hit]:
    """DF104: sudo/doas/su, or gosu/su-exec *to root*, in a RUN step or in what the container starts."""
    tools = _Tools(frozenset(params.tools), frozenset(params.switch_to_root), frozenset(params.drop_tools))
    incomplete: set[Instruction] = set()
    for step in run_steps(analysis):
        inv = step.invocation
        if inv.incomplete:
            if step.instruction not in incomplete:
                incomplete.add(step.instruction)
                yield Hit(
                    step.line,
                    f"{_where(step)} nests commands deeper than secpolicy analyses: "
                    "cannot check it for sudo, su or doas",
                    stage=stage_label(step.state),
                )
            continue
        how = tools.gains_root(inv)
        if how is not None:
            yield Hit(
                step.line, f"{_where(step)} {tools.run_message(inv, how)}", stage=stage_label(step.state), key=how
            )
    target = stage_label(analysis.target)
    for inst, inv, keyword in _start_commands(analysis):
        how = tools.gains_root(inv)
        if how is not None:
            yield Hit(
                inst.line,
                f"{keyword} starts the container with {how}: the running container becomes root",
                inst.column,
                target,
                f"{keyword} {how}",
            )


def insecure_build(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF201: ``RUN --security=insecure`` (a privileged build step)."""
    for state, inst, onbuild in run_instructions(analysis):
        if inst.flag("security") == "insecure":
            prefix = "ONBUILD " if onbuild else ""
            yield Hit(
                inst.line,
                f"{prefix}RUN --security=insecure in {stage_label(state)} runs the step with all capabilities (like docker run --privileged)",
                inst.column,
                stage_label(state),
            )


def setcap(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF202: ``setcap`` granting file capabilities."""
    for step in run_steps(analysis):
        inv = step.invocation
        if inv.name != "setcap":
            continue
        args = [a for a in inv.args if not a.startswith("-") or a == "-"]
        if "-r" in inv.args or not args:
            continue
        caps, files = args[0], args[1:]
        where = " ".join(files) if files else "a file"
        yield Hit(
            step.line,
            f"{_where(step)} grants file capabilities {caps} to {where}: any user running it gains them",
            stage=stage_label(step.state),
            key=f"setcap {where}",
        )


_CHMOD_FLAGS = frozenset({"-R", "--recursive", "-c", "--changes", "-f", "--silent", "--quiet", "-v", "--verbose"})
_WHAT = {
    SETUID: ("setuid bit", "an executable with it runs as its owner (root, when root owns it), whoever starts it"),
    SETGID: ("setgid bit", "an executable with it runs with its group's privileges, whoever starts it"),
}


def _bits_message(bits: frozenset[str], how: str) -> str:
    if len(bits) == 2:
        return (
            f"setuid and setgid bits ({how}): an executable with them runs as its owner and group"
            " (root, when root owns them), whoever starts it"
        )
    name, effect = _WHAT[next(iter(bits))]
    return f"{name} ({how}): {effect}"


def _chmod(args: tuple[str, ...]) -> tuple[str | None, list[str], bool]:
    """(mode, files, recursive) of a chmod command line."""
    mode = None
    files: list[str] = []
    recursive = False
    only_files = False
    for arg in args:
        if only_files:
            files.append(arg)
        elif arg == "--":
            only_files = True
        elif arg.startswith("--reference"):
            return None, [], False  # the mode comes from a file
        elif arg in _CHMOD_FLAGS or (arg.startswith("-") and set(arg[1:]) <= set("Rcfv") and len(arg) > 1):
            recursive = recursive or "R" in arg or arg == "--recursive"
        elif mode is None and is_mode(arg):
            mode = arg
        elif arg.startswith("--"):
            continue
        else:
            files.append(arg)
    return mode, files, recursive


def _install_mode(args: tuple[str, ...]) -> tuple[str | None, bool]:
    """(mode, makes directories) of an install command line."""
    mode = None
    directories = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-m", "--mode") and i + 1 < len(args):
            mode = args[i + 1]
            i += 1
        elif arg.startswith("--mode="):
            mode = arg.partition("=")[2]
        elif arg in ("-d", "--directory"):
            directories = True
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 1:
            cluster = arg[1:]
            if "d" in cluster.split("m", 1)[0]:
                directories = True
            if "m" in cluster:
                rest = cluster.split("m", 1)[1]
                mode = rest if rest else (args[i + 1] if i + 1 < len(args) else None)
                if not rest:
                    i += 1
        i += 1
    return mode, directories


def _directories_made(steps: list[Step]) -> set[str]:
    """Paths that ``mkdir`` and ``install -d`` create in one RUN instruction."""
    made: set[str] = set()
    for step in steps:
        inv = step.invocation
        if inv.name == "mkdir":
            skip = False
            for arg in inv.args:
                if skip:
                    skip = False
                elif arg in ("-m", "--mode", "-Z", "--context"):
                    skip = True
                elif not arg.startswith("-"):
                    made.add(arg.rstrip("/") or "/")
        elif inv.name == "install" and _install_mode(inv.args)[1]:
            made.update(a.rstrip("/") or "/" for a in inv.args if not a.startswith("-"))
    return made


_EXECUTABLE_DIRS = frozenset({"bin", "sbin", "libexec"})


def _setgid_directory(path: str) -> bool:
    """Setgid's usual target is a shared directory: a path outside bin/sbin/libexec with no file extension.

    (A setgid executable lives in a bin directory: /usr/bin/wall, /usr/bin/crontab.)
    """
    parts = [p for p in path.split("/") if p]
    return bool(parts) and not _EXECUTABLE_DIRS & set(parts) and "." not in parts[-1] and "$" not in path


def setuid(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF203: setuid/setgid bits set on files by chmod, install -m or COPY/ADD --chmod.

    Directories are left out: setgid on a directory only makes new files
    inherit its group, and setuid is ignored there.
    """
    by_instruction: dict[Instruction, list[Step]] = {}
    for step in run_steps(analysis):
        by_instruction.setdefault(step.instruction, []).append(step)
    for steps in by_instruction.values():
        made = _directories_made(steps)
        # "find ... -type d | xargs chmod g+s": the pipe feeds chmod directories
        finds_directories = any(s.invocation.name == "find" and find_type(s.invocation.args) == "d" for s in steps)
        for step in steps:
            inv = step.invocation
            if inv.name == "chmod":
                mode, files, recursive = _chmod(inv.args)
                if mode is None:
                    continue
                directories = not recursive and (
                    inv.directories_only
                    or (finds_directories and "xargs" in inv.via)
                    or (bool(files) and all(f.endswith("/") or f.rstrip("/") in made for f in files))
                    or (special_bits_set(mode) == {SETGID} and bool(files) and all(_setgid_directory(f) for f in files))
                )
            elif inv.name == "install":
                mode, directories = _install_mode(inv.args)
                if mode is None:
                    continue
            else:
                continue
            bits = special_bits_set(mode)
            if not bits or directories:
                continue
            how = " ".join((inv.name, *inv.args))
            if len(how) > 120:
                how = how[:117] + "..."
            yield Hit(
                step.line, f"{_where(step)} sets the {_bits_message(bits, how)}", stage=stage_label(step.state), key=how
            )
    for state in analysis.reachable:
        for inst in state.stage.instructions:
            mode = inst.flag("chmod") if inst.cmd in ("copy", "add") else None
            bits = special_bits_set(mode) if mode else frozenset()
            if mode and bits:
                yield Hit(
                    inst.line,
                    f"{inst.keyword} in {stage_label(state)} sets the {_bits_message(bits, '--chmod=' + mode)}",
                    inst.column,
                    stage_label(state),
                )
