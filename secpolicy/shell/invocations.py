"""Which programs a command line really starts.

``env sudo x``, ``/usr/bin/sudo x``, ``sh -c 'sudo x'``, ``xargs sudo``,
``find … -exec chmod u+s {} ;`` all start ``sudo``/``chmod``: this module
peels such wrappers off so checks see the program and its own arguments.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from secpolicy.shell.words import split_commands

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox-sh"})
# wrapper -> options that take a separate value
_WRAPPERS: dict[str, frozenset[str]] = {
    "exec": frozenset({"-a"}),
    "builtin": frozenset(),
    "nohup": frozenset(),
    "time": frozenset({"-f", "-o"}),
    "nice": frozenset({"-n", "--adjustment"}),
    "ionice": frozenset({"-c", "-n", "-p", "-P", "-u"}),
    "stdbuf": frozenset({"-i", "-o", "-e"}),
    "setsid": frozenset(),
    "chronic": frozenset(),
    "tini": frozenset({"-s", "-p", "-e"}),
    "dumb-init": frozenset({"-r", "--rewrite"}),
    "unbuffer": frozenset(),
    "retry": frozenset({"-t", "--times", "-d", "--delay"}),
}
_XARGS_VALUE = frozenset(
    {
        "-I",
        "-i",
        "-n",
        "-P",
        "-d",
        "-L",
        "-l",
        "-s",
        "-E",
        "-e",
        "-a",
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--replace",
    }
)
_ENV_VALUE = frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"})
_TIMEOUT_VALUE = frozenset({"-k", "--kill-after", "-s", "--signal"})
# privilege helpers that run a command as another user: name -> options with a value
USER_SWITCHERS: dict[str, frozenset[str]] = {
    "sudo": frozenset(
        {
            "-u",
            "--user",
            "-g",
            "--group",
            "-C",
            "-D",
            "--chdir",
            "-h",
            "--host",
            "-p",
            "--prompt",
            "-r",
            "--role",
            "-t",
            "--type",
            "-T",
            "--command-timeout",
            "-U",
            "--other-user",
        }
    ),
    "doas": frozenset({"-u", "-C"}),
}


# wrappers (``sh -c``, ``env``, ``sudo`` ...) unwrapped deeper than this are not analysed
MAX_WRAPPERS = 8


@dataclass(frozen=True)
class Invocation:
    """A program start: ``name`` is the basename, ``args`` its arguments.

    ``incomplete`` marks a place the analysis stopped (nesting past its
    limits): what runs there is not known, and ``name`` is empty.
    """

    name: str
    args: tuple[str, ...]
    offset: int
    via: tuple[str, ...] = ()
    incomplete: bool = False
    directories_only: bool = False  # run by ``find -type d -exec``: on directories only


def invocations(script: str, *, depth: int = 0, via: tuple[str, ...] = ()) -> Iterator[Invocation]:
    """Every program a shell script starts, wrappers unwrapped."""
    for cmd in split_commands(script):
        if cmd.truncated:
            yield Invocation("", (), cmd.offset, via, incomplete=True)
        yield from unwrap(cmd.words, cmd.offset, via=via, depth=depth)


def unwrap(words: Sequence[str], offset: int = 0, *, via: tuple[str, ...] = (), depth: int = 0) -> Iterator[Invocation]:
    start = 0
    while start < len(words) and _is_assignment(words[start]):
        start += 1
    if start >= len(words):
        return
    if depth > MAX_WRAPPERS:
        yield Invocation("", (), offset, via, incomplete=True)
        return
    name = posixpath.basename(words[start]) or words[start]
    args = list(words[start + 1 :])
    yield Invocation(name, tuple(args), offset, via)
    inner = _inner_command(name, args)
    if inner is not None:
        yield from unwrap(inner, offset, via=(*via, name), depth=depth + 1)
    script = shell_script(name, args)
    if script is None and name == "eval":
        script = " ".join(args)  # eval runs its arguments as a script
    if script is not None:
        for inv in invocations(script, depth=depth + 1, via=(*via, name)):
            yield Invocation(inv.name, inv.args, offset, inv.via, inv.incomplete)
    if name == "find":
        directories = find_type(args) == "d"
        for cmd in _find_exec(args):
            for inv in unwrap(cmd, offset, via=(*via, name), depth=depth + 1):
                yield replace(inv, directories_only=True) if directories else inv


def shell_script(name: str, args: Sequence[str]) -> str | None:
    """The script of ``sh -c SCRIPT`` (any shell; ``-ec``, ``-o pipefail`` and the like)."""
    if name == "busybox" and args and args[0] in SHELLS:
        name, args = args[0], args[1:]
    if name not in SHELLS:
        return None
    command_mode = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1] if command_mode and i + 1 < len(args) else None
        if arg.startswith("--"):
            i += 1
            continue
        if arg[:1] in ("-", "+") and len(arg) > 1:
            flags = arg[1:]
            command_mode = command_mode or (arg[0] == "-" and "c" in flags)
            i += 1 + flags.count("o")  # -o takes an option name
            continue
        return arg if command_mode else None
    return None


def _inner_command(name: str, args: list[str]) -> list[str] | None:
    if name in _WRAPPERS:
        return _skip_options(args, _WRAPPERS[name])
    if name == "command":
        if any(a in ("-v", "-V") for a in args[:2]):
            return None  # a lookup, not a run
        return _skip_options(args, frozenset())
    if name == "env":
        rest = _skip_options(args, _ENV_VALUE)
        skip = 0
        while skip < len(rest) and _is_assignment(rest[skip]):
            skip += 1
        return rest[skip:]
    if name == "xargs":
        return _skip_options(args, _XARGS_VALUE)
    if name == "timeout":
        rest = _skip_options(args, _TIMEOUT_VALUE)
        return rest[1:]
    if name == "busybox":
        return args
    if name == "chroot":
        rest = _skip_options(args, frozenset({"--userspec", "--groups"}))
        return rest[1:]
    if name in USER_SWITCHERS:
        return _skip_options(args, USER_SWITCHERS[name])
    if name in ("gosu", "su-exec"):
        return args[1:]
    return None


def _skip_options(args: list[str], with_value: frozenset[str]) -> list[str]:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1 :]
        if not arg.startswith("-") or arg == "-":
            break
        if arg in with_value:
            i += 1
        i += 1
    return args[i:]


def find_type(args: Sequence[str]) -> str | None:
    """The ``-type`` of a ``find`` command line."""
    for i, arg in enumerate(args[:-1]):
        if arg == "-type":
            return args[i + 1]
    return None


def _find_exec(args: list[str]) -> Iterator[list[str]]:
    i = 0
    while i < len(args):
        if args[i] in ("-exec", "-execdir", "-ok", "-okdir"):
            j = i + 1
            while j < len(args) and args[j] not in (";", "+"):
                j += 1
            yield args[i + 1 : j]
            i = j
        i += 1


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    return (
        bool(eq) and bool(name) and (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)
    )
