"""The ``secpolicy`` command: ``run`` straight to the runtime when its line is plain, else the typer CLI."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["run"]:
        from secpolicy.runtime import argv as run_argv

        request = run_argv.parse(args[1:])
        if request is not None:
            from secpolicy.runtime.command import execute

            try:
                return execute(request)
            except KeyboardInterrupt:
                return 130
            except Exception as exc:
                if os.environ.get("SECPOLICY_DEBUG"):
                    raise
                sys.stderr.write(
                    f"secpolicy: internal error: {type(exc).__name__}: {exc} (set SECPOLICY_DEBUG=1 for a traceback)\n"
                )
                return 2
    from secpolicy.cli import main as cli_main

    return cli_main(argv)
