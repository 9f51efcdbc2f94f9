"""A fast reading of ``secpolicy run``'s command line, so that starting a container does not import typer.

Importing typer and building the whole CLI costs more than the bundled
runtime takes to start a container.  This parser knows exactly the options
of the typer command ``run`` (a test checks the two tables agree) and
gives up, returning None, on anything else: ``--help``, an unknown or
malformed option, a missing value.  typer then parses the same line and
gives its usual help and errors, so nothing a user sees differs.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from secpolicy.runtime.command import RunRequest

FLAG, VALUE, LIST = "flag", "value", "list"
# option -> (RunRequest field, kind); the names and arity of cli.run's parameters
OPTIONS: dict[str, tuple[str, str]] = {
    "--rootfs": ("rootfs", VALUE),
    "--user": ("user", VALUE),
    "-u": ("user", VALUE),
    "--group-add": ("group_add", LIST),
    "--cap-add": ("cap_add", LIST),
    "--cap-drop": ("cap_drop", LIST),
    "--ambient": ("ambient", LIST),
    "--privileged": ("privileged", FLAG),
    "--read-only": ("read_only", FLAG),
    "--security-opt": ("security_opt", LIST),
    "--env": ("env", LIST),
    "-e": ("env", LIST),
    "--env-file": ("env_file", LIST),
    "--workdir": ("workdir", VALUE),
    "-w": ("workdir", VALUE),
    "--hostname": ("hostname", VALUE),
    "--network": ("network", VALUE),
    "--tmpfs": ("tmpfs", LIST),
    "--volume": ("volume", LIST),
    "-v": ("volume", LIST),
    "--from": ("dockerfile", VALUE),
    "--pod": ("pod", VALUE),
    "--container": ("container", VALUE),
    "--target": ("target", LIST),
    "--build-arg": ("build_arg", LIST),
    "--runtime": ("runtime", VALUE),
    "--tty": ("tty", FLAG),
    "-t": ("tty", FLAG),
    "--dry-run": ("dry_run", FLAG),
    "--audit": ("audit", FLAG),
    "--config": ("config_file", VALUE),
}
_PATHS = {f.name for f in fields(RunRequest) if "Path" in str(f.type)}


def parse(args: list[str]) -> RunRequest | None:
    """The request ``args`` (after ``run``) make, or None for typer to read them."""
    request = RunRequest()
    values: dict[str, object] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            values["command"] = args[i + 1 :]
            break
        if not arg.startswith("-") or arg == "-":
            values["command"] = args[i:]  # options end at the command, as click's allow_interspersed_args=False
            break
        name, eq, inline = arg.partition("=")
        if name not in OPTIONS or (eq and not name.startswith("--")):
            return None
        field_name, kind = OPTIONS[name]
        if kind == FLAG:
            if eq:
                return None
            values[field_name] = True
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        elif i + 1 < len(args):
            value = args[i + 1]
            i += 2
        else:
            return None
        converted: object = Path(value) if field_name in _PATHS else value
        if kind == LIST:
            values.setdefault(field_name, [])
            values[field_name].append(converted)  # type: ignore[attr-defined]
        else:
            values[field_name] = converted
    for key, given in values.items():
        setattr(request, key, given)
    return request
