"""What a check receives and returns, and helpers shared by checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from secpolicy.dockerfile.instructions import Instruction
from secpolicy.model import WINDOWS_USERS, Location
from secpolicy.resolve.dockerfile import Analysis, StageState
from secpolicy.shell.invocations import SHELLS, Invocation, invocations, unwrap
from secpolicy.targets import Kind


@dataclass(frozen=True)
class Hit:
    """One problem found by a check; the engine adds rule id and severity."""

    line: int
    message: str
    column: int = 1
    stage: str | None = None
    key: str | None = None  # what the finding is about within its stage (an ENV/ARG name, a program, a file)
    at: Location | None = None  # set when the finding is about another place than the Dockerfile line


Params = Any  # a check's own params dataclass
# a check takes a target of a kind it judges (an Analysis for a Dockerfile stage) and its params
Check = Callable[[Any, Any], Iterator[Hit]]


@dataclass(frozen=True)
class NoParams:
    """For checks that take no parameters."""


@dataclass(frozen=True)
class CheckDef:
    """A check: what it runs, which target kinds it judges, and its typed parameters (defaults live there)."""

    run: Check
    kinds: frozenset[Kind]
    params: type = NoParams


def stage_label(state: StageState) -> str:
    return f"stage {state.label}"


# Windows base images: mcr.microsoft.com/windows/*, and the servercore and
# nanoserver tags of other images (python:3.12-windowsservercore-ltsc2022,
# mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022, ...)
_WINDOWS_IMAGE = re.compile(r"(?:^|/)windows(?:/|servercore|$)|nanoserver|windowsservercore", re.IGNORECASE)
_WINDOWS_SHELLS = frozenset({"powershell", "powershell.exe", "pwsh", "pwsh.exe", "cmd", "cmd.exe"})


def is_windows(analysis: Analysis) -> bool:
    """Does the target build a Windows image (where uids and groups do not apply)?"""
    chain = analysis.target.chain()
    if analysis.target.user.name is not None and analysis.target.user.name.lower() in WINDOWS_USERS:
        return True
    if chain[0].base.resolved and _WINDOWS_IMAGE.search(chain[0].base.value):
        return True
    shell = analysis.target.shell
    return bool(shell) and shell[0].replace("\\", "/").rsplit("/", 1)[-1].lower() in _WINDOWS_SHELLS


@dataclass(frozen=True)
class Step:
    """A program a RUN instruction starts, with the line it is on."""

    state: StageState
    instruction: Instruction
    invocation: Invocation
    line: int
    onbuild: bool


def run_instructions(analysis: Analysis) -> Iterator[tuple[StageState, Instruction, bool]]:
    """RUN instructions of every stage the target's build runs (and ONBUILD RUN)."""
    for state in analysis.reachable:
        for inst in state.stage.instructions:
            if inst.cmd == "run":
                yield state, inst, False
            elif inst.cmd == "onbuild":
                child = inst.onbuild
                if child is not None and child.cmd == "run":
                    yield state, child, True


def run_steps(analysis: Analysis) -> list[Step]:
    """Every program every reachable RUN starts, heredoc scripts included."""
    if analysis.steps is None:
        analysis.steps = list(_run_steps(analysis))
    return analysis.steps


def _run_steps(analysis: Analysis) -> Iterator[Step]:
    for state, inst, onbuild in run_instructions(analysis):
        if inst.is_json:
            for inv in unwrap(inst.args):
                yield Step(state, inst, inv, inst.line, onbuild)
            continue
        shell = state.shell_at.get(inst, state.shell)
        if shell and shell[0].rsplit("/", 1)[-1] not in SHELLS:
            continue  # SHELL ["powershell", ...]: not a POSIX script
        text = inst.args[0] if inst.args else ""
        for inv in invocations(text):
            line = inst.line if onbuild else inst.node.arg_line(inv.offset)
            yield Step(state, inst, inv, line, onbuild)
        for doc in inst.heredocs:
            if _runs_as_shell(text, doc.content):
                for inv in invocations(doc.content):
                    yield Step(state, inst, inv, doc.line_at(inv.offset), onbuild)


def _runs_as_shell(command: str, body: str) -> bool:
    """A heredoc body is a shell script when RUN executes it with a shell."""
    if body.startswith("#!"):
        interpreter = body[2:].split("\n", 1)[0].split()
        if interpreter and interpreter[0].endswith("/env") and len(interpreter) > 1:
            interpreter = interpreter[1:]
        return bool(interpreter) and interpreter[0].rsplit("/", 1)[-1] in SHELLS
    first = [inv.name for inv in invocations(command)][:1]
    return not first or first[0] in SHELLS
