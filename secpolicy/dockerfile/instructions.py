"""Instructions and stages: the layer BuildKit calls ``instructions.Parse``.

Turns the line-level AST into stages and checks what BuildKit checks before
a build starts (unknown instructions, FROM shape, stage names, arguments).
Flags that a newer Dockerfile frontend may add are kept, not rejected, so a
new BuildKit feature never turns into a spurious parse error here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from secpolicy.dockerfile.syntax import DockerfileSyntaxError, Heredoc, Node, ParseResult, parse

KNOWN = frozenset(
    {
        "add",
        "arg",
        "cmd",
        "copy",
        "entrypoint",
        "env",
        "expose",
        "from",
        "healthcheck",
        "label",
        "maintainer",
        "onbuild",
        "run",
        "shell",
        "stopsignal",
        "user",
        "volume",
        "workdir",
    }
)
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_NEEDS_ARGS = {
    "arg": "ARG requires at least one argument",
    "env": "ENV requires at least one argument",
    "label": "LABEL requires at least one argument",
    "user": "USER requires exactly one argument",
    "workdir": "WORKDIR requires exactly one argument",
    "from": "FROM requires either one or three arguments",
    "expose": "EXPOSE requires at least one argument",
    "stopsignal": "STOPSIGNAL requires exactly one argument",
    "maintainer": "MAINTAINER requires exactly one argument",
    "onbuild": "ONBUILD requires at least one argument",
    "healthcheck": "HEALTHCHECK requires at least one argument",
}
# instructions whose BuildKit parser calls BFlags.Parse with no flag defined:
# any flag is "unknown flag" there (ARG and STOPSIGNAL never parse flags, and
# FROM/RUN/COPY/ADD/HEALTHCHECK gain flags with new frontends: kept lenient)
_NO_FLAGS = frozenset(
    {"cmd", "entrypoint", "env", "expose", "label", "maintainer", "onbuild", "shell", "user", "volume", "workdir"}
)


@dataclass(frozen=True)
class Flag:
    name: str
    value: str | None


@dataclass(eq=False)
class Instruction:
    """Hashable by identity: analyses key what they learn about an instruction by the object."""

    node: Node
    flags: list[Flag]

    @property
    def cmd(self) -> str:
        return self.node.cmd

    @property
    def keyword(self) -> str:
        return self.node.cmd.upper()

    @property
    def args(self) -> list[str]:
        return self.node.args

    @property
    def line(self) -> int:
        return self.node.line

    @property
    def column(self) -> int:
        return self.node.column

    @property
    def heredocs(self) -> list[Heredoc]:
        return self.node.heredocs

    @property
    def is_json(self) -> bool:
        return self.node.json

    def flag(self, name: str) -> str | None:
        """Value of the last ``--name=value`` (``""`` for a bare ``--name``)."""
        value = None
        for f in self.flags:
            if f.name == name:
                value = f.value if f.value is not None else ""
        return value

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    def pairs(self) -> list[tuple[str, str]]:
        """ENV/LABEL key-value pairs (raw, before expansion)."""
        a = self.node.args
        return [(a[i], a[i + 1]) for i in range(0, len(a) - 2, 3)]

    @cached_property
    def onbuild(self) -> Instruction | None:
        """The trigger of an ONBUILD (the same object every time)."""
        child = self.node.child
        return Instruction(child, _flags(child)) if child else None


@dataclass
class Stage:
    index: int
    from_: Instruction
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.name if self.name is not None else str(self.index)


@dataclass
class Dockerfile:
    path: str
    text: str
    parsed: ParseResult
    meta_args: list[Instruction]
    stages: list[Stage]

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def stage(self, name: str) -> Stage | None:
        key = name.lower()
        for stage in self.stages:
            if stage.name == key or (stage.name is None and str(stage.index) == key):
                return stage
        return None


def _flags(node: Node) -> list[Flag]:
    out: list[Flag] = []
    for raw in node.flags:
        body = raw[2:] if raw.startswith("--") else raw
        name, eq, value = body.partition("=")
        out.append(Flag(name.lower(), value if eq else None))
    return out


def _fail(node: Node, message: str) -> DockerfileSyntaxError:
    return DockerfileSyntaxError(message, node.line, node.end_line)


_DURATION = re.compile(r"[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+|[-+]?0")
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
}
_HEALTH_INTERVALS = ("interval", "timeout", "start-period", "start-interval")


def _duration_ns(text: str) -> float | None:
    """Go's time.ParseDuration, to nanoseconds; None where Go reports an error."""
    if not _DURATION.fullmatch(text):
        return None
    sign = -1 if text.startswith("-") else 1
    return sign * sum(float(n) * _UNIT_NS[u] for n, u in _DURATION_PART.findall(text))


def _check_healthcheck(node: Node) -> None:
    # instructions.parseHealthcheck
    kind = node.args[0].upper()
    rest = node.args[1:]
    if kind == "NONE":
        if rest:
            raise _fail(node, "HEALTHCHECK NONE takes no arguments")
        return
    flags = {f.name: f.value for f in _flags(node)}
    if kind != "CMD":
        raise _fail(node, f'Unknown type "{node.args[0].upper()}" in HEALTHCHECK (try CMD)')
    if not rest or (not node.json and not "".join(rest).strip()):
        raise _fail(node, "Missing command after HEALTHCHECK CMD")
    for name in _HEALTH_INTERVALS:
        value = flags.get(name)
        if not value:
            continue
        ns = _duration_ns(value)
        if ns is None:
            raise _fail(node, f'time: invalid duration "{value}"')
        if ns != 0 and ns < 1_000_000:
            raise _fail(node, f'Interval "{name}" cannot be less than 1ms')
    retries = flags.get("retries")
    if retries:
        if not re.fullmatch(r"[+-]?[0-9]{1,10}", retries) or not -(2**31) <= int(retries) < 2**31:
            raise _fail(node, f'strconv.ParseInt: parsing "{retries}": invalid syntax')
        if int(retries) < 0:
            raise _fail(node, f"--retries cannot be negative ({int(retries)})")


def check(node: Node) -> None:
    """What BuildKit's instructions.ParseInstruction refuses in one instruction."""
    _check(node)


def _check(node: Node) -> None:
    if node.cmd not in KNOWN:
        raise _fail(node, f"unknown instruction: {node.keyword}")
    if node.cmd in _NO_FLAGS and node.flags:
        flag = node.flags[0]
        if flag == "--":
            pass
        elif not flag.startswith("--"):
            raise _fail(node, f"arg should start with -- : {flag}")
        else:
            raise _fail(node, f"unknown flag: {flag.partition('=')[0]}")
    if not node.args and node.cmd in _NEEDS_ARGS and not node.child:
        raise _fail(node, _NEEDS_ARGS[node.cmd])
    if node.cmd in ("copy", "add") and len(node.args) + len(node.heredocs) < 2:
        raise _fail(
            node,
            f"{node.cmd.upper()} requires at least two arguments, but only one was provided."
            " Destination could not be determined",
        )
    if node.cmd == "shell":
        if not node.args:
            raise _fail(node, "SHELL requires at least one argument")
        if not node.json:
            raise _fail(node, "SHELL requires the arguments to be in JSON form")  # instructions.parseShell
    if node.cmd in ("env", "label"):
        for i in range(0, len(node.args) - 2, 3):
            if node.args[i] == "":
                raise _fail(node, f"{node.cmd.upper()} names can not be blank")
    if node.cmd == "arg":
        for word in node.args:
            if word.startswith("="):
                raise _fail(node, "ARG names can not be blank")
    if node.cmd == "volume" and any(not v.strip() for v in node.args):
        raise _fail(node, "VOLUME specified can not be an empty string")
    if node.cmd == "healthcheck" and node.args:
        _check_healthcheck(node)
    if node.cmd == "onbuild":
        child = node.child
        if child is None:
            raise _fail(node, _NEEDS_ARGS["onbuild"])
        if child.cmd in ("onbuild", "from", "maintainer"):
            raise _fail(node, f"{child.cmd.upper()} isn't allowed as an ONBUILD trigger")
        # the trigger itself is parsed only when a stage built FROM this one runs it
        # (initOnBuildTriggers): the resolver checks it there


def load(text: str, path: str) -> Dockerfile:
    """Parse and validate; raise DockerfileSyntaxError where a build would fail."""
    parsed = parse(text)
    meta: list[Instruction] = []
    stages: list[Stage] = []
    names: set[str] = set()
    for node in parsed.nodes:
        _check(node)
        inst = Instruction(node, _flags(node))
        if node.cmd == "from":
            stages.append(_stage(inst, len(stages), names))
        elif not stages:
            if node.cmd != "arg":
                raise _fail(node, f"{node.cmd.upper()} before the first FROM: no build stage in current context")
            meta.append(inst)
        else:
            stages[-1].instructions.append(inst)
    if not stages:
        raise DockerfileSyntaxError("dockerfile contains no stages to build (no FROM)", 1)
    return Dockerfile(path, text, parsed, meta, stages)


def _stage(inst: Instruction, index: int, names: set[str]) -> Stage:
    args = inst.args
    name: str | None = None
    if len(args) == 3 and args[1].lower() == "as":
        name = args[2].lower()
        if not _STAGE_NAME.match(name):
            raise _fail(inst.node, f"invalid name for build stage: {args[2]!r}")
        if name in names:
            raise _fail(inst.node, f"duplicate stage name {args[2]!r}")
        names.add(name)
    elif len(args) != 1:
        raise _fail(inst.node, _NEEDS_ARGS["from"])
    return Stage(index, inst, args[0], name)
