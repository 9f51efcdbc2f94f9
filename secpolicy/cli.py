"""The ``secpolicy`` command line: parse arguments, call the engine, render, exit.

Exit codes: 0 nothing at or above ``--fail-on``; 1 findings (or a file that
could not be linted); 2 usage or configuration error.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from secpolicy.api import Settings
    from secpolicy.catalog import Rule

app = typer.Typer(
    name="secpolicy",
    help="Security policy linter for Dockerfiles: who a container runs as, with which privileges, and which secrets it leaks.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from secpolicy import __version__

        typer.echo(f"secpolicy {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Security policy linter for Dockerfiles: who a container runs as, with which privileges, and which secrets it leaks.

    With no command, prints this help and exits with code 2 (usage).
    """


class Format(StrEnum):
    text = "text"
    json = "json"


class LintFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"
    junit = "junit"


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    note = "note"
    never = "never"


def _usage_error(message: str) -> NoReturn:
    typer.echo(f"secpolicy: error: {message}", err=True)
    raise typer.Exit(2)


def _split_ids(values: list[str] | None) -> list[str]:
    return [v.strip().upper() for raw in values or [] for v in raw.split(",") if v.strip()]


def _build_args(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in values or []:
        key, eq, value = raw.partition("=")
        if not key:
            _usage_error(f"--build-arg {raw!r}: expected KEY=VALUE")
        if eq:
            out[key] = value
        elif key in os.environ:
            out[key] = os.environ[key]
        # as docker build: KEY alone with KEY unset passes nothing, so the ARG default applies
    return out


def _write(text: str, output: Path | None) -> None:
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from secpolicy.output import OutputError, write_text

    try:
        write_text(output, text)
    except OutputError as exc:
        _usage_error(f"cannot write the report: {exc}")
    except OSError as exc:
        _usage_error(f"cannot write the report to {output}: {exc.strerror or exc}")


def _color(output: Path | None) -> bool:
    return (output is None or str(output) == "-") and sys.stdout.isatty() and not os.environ.get("NO_COLOR")


DOCKERFILE_NAMES = "Dockerfile, Containerfile, Dockerfile.*, Containerfile.*, *.Dockerfile, *.dockerfile"


def _settings(
    config_file: Path | None,
    build_arg: list[str] | None,
    target: list[str] | None,
    select: list[str] | None = None,
    ignore: list[str] | None = None,
    exclude: list[str] | None = None,
    stdin_filename: str = "<stdin>",
    images: list[str] | None = None,
    platform: str | None = None,
    refresh_images: bool = False,
    insecure_registry: list[str] | None = None,
) -> Settings:
    from secpolicy.api import Settings

    return Settings(
        build_args=_build_args(build_arg),
        target=_one_target(target),
        select=_split_ids(select),
        ignore=_split_ids(ignore),
        config=config_file,
        exclude=exclude or [],
        stdin_filename=stdin_filename,
        images=images or [],
        platform=platform,
        refresh_images=refresh_images,
        insecure_registries=insecure_registry or [],
    )


def _check_paths(paths: list[Path]) -> None:
    for path in paths:
        if str(path) != "-" and not os.path.lexists(path):
            _usage_error(f"{path}: no such file or directory")
    if sum(1 for p in paths if str(p) == "-") > 1:
        _usage_error("'-' (stdin) can be given only once")


BuildArgOpt = Annotated[
    list[str] | None,
    typer.Option("--build-arg", metavar="KEY=VALUE", help="Build argument, as for docker build (repeatable)."),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option("--target", metavar="STAGE", help="Stage to judge (default: the last stage); give it once."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", metavar="FILE", help="Policy file (default: secpolicy.yaml or .secpolicy.yaml found upwards)."
    ),
]
ImagesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--images",
        metavar="SOURCE",
        help="Where base images' configs come from, tried in order (repeatable): builtin (the packaged table of "
        "well-known images; the default), registry (the image's registry, cached), daemon (the local Docker or "
        "Podman), oci:DIR (an OCI image layout), docker-archive:FILE (docker save). Nothing touches the network "
        "unless registry is named.",
    ),
]
PlatformOpt = Annotated[
    str | None,
    typer.Option(
        "--platform", metavar="OS/ARCH[/VARIANT]", help="Platform of a multi-platform image (default linux/amd64)."
    ),
]
RefreshOpt = Annotated[
    bool,
    typer.Option(
        "--refresh-images", help="Ask the registry again for tags the image cache holds (digests never change)."
    ),
]
InsecureOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--insecure-registry",
        metavar="HOST[:PORT]",
        help="Talk plain HTTP to this registry (loopback registries always are). Repeatable.",
    ),
]
PssVersionOpt = Annotated[
    str | None,
    typer.Option(
        "--pss-version",
        metavar="v1.N|latest",
        help="Pod Security Standards version the pod rules judge at (as the pod-security.kubernetes.io/*-version "
        "namespace label); newer versions than secpolicy knows mean its newest.",
    ),
]
StdinNameOpt = Annotated[str, typer.Option("--stdin-filename", metavar="NAME", help="Name to report for '-' (stdin).")]
PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="PATH...", show_default=False, help="Dockerfiles or directories (default: .); '-' reads stdin."
    ),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="GLOB",
        help="Skip files and directories matching GLOB in the walk (gitignore syntax, repeatable). "
        "Templates (*.tmpl, *.template, *.tpl, *.j2, *.jinja, *.jinja2, *.erb, *.mustache, *.hbs) are skipped "
        "by default; name one on the command line to lint it.",
    ),
]


def _one_target(values: list[str] | None) -> str | None:
    if values and len(values) > 1:
        _usage_error(f"--target given {len(values)} times ({', '.join(values)}): give one stage")
    return values[0] if values else None


@app.command()
def lint(
    paths: PathsArg = None,
    format: Annotated[
        LintFormat,
        typer.Option(
            "--format",
            "-f",
            metavar="text|json|sarif|github|gitlab|junit",
            help="Output format: sarif for GitHub code scanning, github for workflow annotations, gitlab for "
            "GitLab code quality, junit for CI test reports.",
        ),
    ] = LintFormat.text,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the report to FILE: a regular file is replaced atomically, a device or FIFO is written into, a symlink is followed; '-' is stdout.",
        ),
    ] = None,
    target: TargetOpt = None,
    build_arg: BuildArgOpt = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", metavar="IDS", help="Only these rules (ids or prefixes, comma-separated)."),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option("--ignore", metavar="IDS", help="Skip these rules (ids or prefixes, comma-separated)."),
    ] = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            "--fail-on",
            metavar="error|warning|note|never",
            help="Lowest severity that makes the exit code 1 (default: fail-on in the config, else error).",
        ),
    ] = None,
    config_file: ConfigOpt = None,
    stdin_filename: StdinNameOpt = "<stdin>",
    show_suppressed: Annotated[
        bool, typer.Option("--show-suppressed", help="List suppressed findings in text output too.")
    ] = False,
    exclude: ExcludeOpt = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            metavar="default|pss-baseline|pss-restricted",
            help="Only the rules of this profile (SP001 always runs; default: profile in the config, else default). "
            "pss-baseline and pss-restricted give exactly the Pod Security Standards verdict of pod-security-admission.",
        ),
    ] = None,
    pss_version: PssVersionOpt = None,
    context: Annotated[
        Path | None,
        typer.Option(
            "--context",
            metavar="DIR",
            help="The build context of the Dockerfiles linted (default: each Dockerfile's directory, or contexts: in secpolicy.yaml).",
        ),
    ] = None,
    images: ImagesOpt = None,
    platform: PlatformOpt = None,
    refresh_images: RefreshOpt = False,
    insecure_registry: InsecureOpt = None,
    sarif_category: Annotated[
        str | None,
        typer.Option(
            "--sarif-category",
            metavar="NAME",
            help="SARIF automationDetails.id (default secpolicy): upload several secpolicy SARIF files per commit "
            "under different categories.",
        ),
    ] = None,
) -> None:
    """Lint Dockerfiles and Kubernetes manifests: root users, capabilities, privileges, secrets, Pod Security Standards.

    Directories are searched for Dockerfile, Containerfile, Dockerfile.*,
    *.Dockerfile, *.dockerfile and Containerfile.*, and for *.yaml, *.yml and
    *.json manifests (YAML that holds no Kubernetes object is skipped quietly;
    a Helm chart's templates/ is skipped: lint `helm template` output), honouring
    .gitignore and skipping templates. SP001 (file could not be linted) is
    always reported.
    """
    paths = paths or [Path(".")]
    _check_paths(paths)
    from secpolicy import api
    from secpolicy.report import RenderOptions, renderer

    settings = replace(
        _settings(
            config_file,
            build_arg,
            target,
            select,
            ignore,
            exclude,
            stdin_filename,
            images,
            platform,
            refresh_images,
            insecure_registry,
        ),
        profile=profile,
        pss_version=pss_version,
        context=context,
    )
    try:
        report = api.lint(paths, settings, stdin=sys.stdin.buffer if any(str(p) == "-" for p in paths) else None)
    except api.UsageError as exc:
        _usage_error(str(exc))
    findings = report.findings
    if not report.files and not report.errors:
        shown = ", ".join(str(p) for p in paths)
        typer.echo(
            f"secpolicy: note: no Dockerfile or manifest found in {shown} "
            f"(looked for {DOCKERFILE_NAMES}, *.yaml, *.yml, *.json)",
            err=True,
        )
    # --target: a file without that stage is reported; it is a usage error only when no file has it
    usage_error = bool(report.errors) and len(report.errors) == report.files
    extra = {"sarif-category": sarif_category} if sarif_category else {}
    options = RenderOptions(color=_color(output), show_suppressed=show_suppressed, extra=extra)
    _write(renderer(format.value)(report, options), output)
    if usage_error:
        raise typer.Exit(2)
    gate = fail_on.value if fail_on is not None else (report.fail_on or "error")
    if gate != "never":
        from secpolicy.model import Severity

        threshold = Severity.parse(gate)
        if any(f.severity >= threshold and not f.suppressed for f in findings):
            raise typer.Exit(1)


@app.command()
def resolve(
    paths: PathsArg = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="text|json", help="Output format.")] = Format.text,
    target: TargetOpt = None,
    build_arg: BuildArgOpt = None,
    exclude: ExcludeOpt = None,
    all_stages: Annotated[bool, typer.Option("--all-stages", help="Print every stage, not only the target.")] = False,
    config_file: ConfigOpt = None,
    stdin_filename: StdinNameOpt = "<stdin>",
    images: ImagesOpt = None,
    platform: PlatformOpt = None,
    refresh_images: RefreshOpt = False,
    insecure_registry: InsecureOpt = None,
) -> None:
    """Print the effective user, capabilities and privileges per target, with the line that decided each.

    Targets are the target stage of each Dockerfile (every stage with
    --all-stages) and every container (init and ephemeral ones included) of
    every workload in the manifests.
    """
    from secpolicy import api

    paths = paths or [Path(".")]
    _check_paths(paths)
    settings = _settings(
        config_file,
        build_arg,
        target,
        exclude=exclude,
        stdin_filename=stdin_filename,
        images=images,
        platform=platform,
        refresh_images=refresh_images,
        insecure_registry=insecure_registry,
    )
    try:
        found = api.resolve(
            paths,
            settings,
            stdin=sys.stdin.buffer if any(str(p) == "-" for p in paths) else None,
            all_stages=all_stages,
        )
    except api.UsageError as exc:
        _usage_error(str(exc))
    contexts, errors, failed = found.contexts, found.errors, bool(found.failures)
    for failure in found.failures:
        for f in failure.findings:
            typer.echo(f"{f.path}:{f.line}: {f.message}", err=True)
    for error in errors:
        typer.echo(f"secpolicy: error: {error}", err=True)
    if format is Format.json:
        from secpolicy.report import jsondoc

        _write(jsondoc.contexts(contexts), None)
    else:
        from secpolicy.report import text as text_report

        _write(text_report.contexts(contexts), None)
    if errors:
        raise typer.Exit(2)
    if failed:
        raise typer.Exit(1)


@app.command()
def rules(
    format: Annotated[Format, typer.Option("--format", "-f", metavar="text|json", help="Output format.")] = Format.text,
) -> None:
    """List the rule catalog."""
    import json

    from secpolicy import catalog

    catalog_rules = catalog.load()
    if format is Format.json:
        _write(json.dumps([r.to_json() for r in catalog_rules.values()], indent=2) + "\n", None)
        return
    width = max(len(r.slug) for r in catalog_rules.values())
    lines = [f"{r.id:<7} {r.severity.label:<8} {r.slug:<{width}}  {r.title}" for r in catalog_rules.values()]
    _write("\n".join(lines) + "\n", None)


context_app = typer.Typer(
    name="context",
    help="Build contexts: what a build sends to the builder, decided by the .dockerignore that applies.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(context_app)


@context_app.command("ls")
def context_ls(
    directory: Annotated[Path, typer.Argument(help="The build context (default: .).")] = Path("."),
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            metavar="DOCKERFILE",
            help="The Dockerfile (default: DIR/Dockerfile); <Dockerfile>.dockerignore next to it wins over DIR/.dockerignore.",
        ),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show, per file, the pattern (file:line) that decided it and its size.")
    ] = False,
    format: Annotated[Format, typer.Option("--format", metavar="text|json", help="Output format.")] = Format.text,
) -> None:
    """List exactly the files a BuildKit build of DIR sends: relative paths, sorted, one per line.

    Symbolic links are listed as links, never followed. With --explain, each
    file shows the .dockerignore line that re-included it (or "no pattern
    matched"), its size, and a summary of files and bytes sent. Exit code 1
    when the ignore file would fail the build or a directory cannot be read.
    """
    from secpolicy.context.ignore import IgnoreError
    from secpolicy.context.source import list_context
    from secpolicy.sources import json_path, printable, printable_lines

    if not directory.is_dir():
        _usage_error(f"{directory}: not a directory")
    try:
        listing = list_context(directory, file, sizes=explain or format is Format.json)
    except IgnoreError as exc:
        consequence = "the build would fail" if exc.build_fails else "not judged"
        typer.echo(f"secpolicy: error: {exc.message} ({consequence})", err=True)
        raise typer.Exit(1) from None
    ignore = str(listing.ignore) if listing.ignore else None
    for problem in listing.problems:
        typer.echo(f"secpolicy: warning: {printable(problem.path)}: {problem.message}", err=True)
    if format is Format.json:
        import json

        doc = {
            "context": str(directory),
            "ignore_file": ignore,
            "files": [
                {
                    **json_path(e.path),
                    "kind": e.kind,
                    "size": e.size,
                    "content_withheld": e.content_withheld,
                    "decided_by": (
                        {"pattern": e.decided.source, "file": ignore, "line": e.decided.line} if e.decided else None
                    ),
                }
                for e in listing.entries
            ],
            "problems": [{**json_path(p.path), "message": p.message} for p in listing.problems],
            "summary": {"files": len(listing.entries), "bytes": listing.total_bytes},
        }
        typer.echo(json.dumps(doc, indent=2))
    elif explain:
        for e in listing.entries:
            why = f"{e.decided.source} ({ignore}:{e.decided.line})" if e.decided else "no pattern matched"
            extra = ", content withheld (the documented semantics exclude it)" if e.content_withheld else ""
            typer.echo(f"{printable(e.path)}\t{e.size}\t{why}{extra}")
        source = ignore or "no .dockerignore applies"
        typer.echo(f"{len(listing.entries)} files, {listing.total_bytes} bytes sent ({source})")
    else:
        # one write: echo per line costs more than the walk on a 200k-file context
        sys.stdout.write(printable_lines(listing.paths))
        sys.stdout.flush()
    if listing.problems:
        raise typer.Exit(1)


@app.command(context_settings={"allow_interspersed_args": False})
def run(
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="[-- CMD ...]", help="The command (default: the Dockerfile's ENTRYPOINT and CMD)."),
    ] = None,
    rootfs: Annotated[Path, typer.Option("--rootfs", metavar="DIR", help="The container's root filesystem.")] = Path(
        "rootfs"
    ),
    user: Annotated[
        str | None,
        typer.Option(
            "--user", "-u", metavar="USER[:GROUP]", help="Run as this user (names resolve in the rootfs' /etc/passwd)."
        ),
    ] = None,
    group_add: Annotated[
        list[str] | None, typer.Option("--group-add", metavar="GROUP", help="A supplementary group (repeatable).")
    ] = None,
    cap_add: Annotated[
        list[str] | None,
        typer.Option("--cap-add", metavar="CAP", help="Add a capability (repeatable; ALL for every one)."),
    ] = None,
    cap_drop: Annotated[
        list[str] | None,
        typer.Option("--cap-drop", metavar="CAP", help="Drop a capability (repeatable; ALL for every one)."),
    ] = None,
    ambient: Annotated[
        list[str] | None,
        typer.Option(
            "--ambient",
            metavar="CAP",
            help="Raise a capability of the bounding set as ambient, so a non-root user holds it (repeatable).",
        ),
    ] = None,
    privileged: Annotated[
        bool,
        typer.Option(
            "--privileged",
            help="Every capability, no masked paths (the policy refuses it unless run.allow-privileged).",
        ),
    ] = False,
    read_only: Annotated[bool, typer.Option("--read-only", help="Mount the root filesystem read-only.")] = False,
    security_opt: Annotated[
        list[str] | None, typer.Option("--security-opt", metavar="OPT", help="no-new-privileges (repeatable).")
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", metavar="NAME=VALUE", help="Set an environment variable (repeatable)."),
    ] = None,
    env_file: Annotated[
        list[Path] | None, typer.Option("--env-file", metavar="FILE", help="Read NAME=VALUE lines (repeatable).")
    ] = None,
    workdir: Annotated[
        str | None, typer.Option("--workdir", "-w", metavar="DIR", help="The working directory inside the container.")
    ] = None,
    hostname: Annotated[
        str | None, typer.Option("--hostname", metavar="NAME", help="The container's host name.")
    ] = None,
    network: Annotated[
        str,
        typer.Option(
            "--network", metavar="none|host", help="A private network namespace (none, the default) or the host's."
        ),
    ] = "none",
    tmpfs: Annotated[
        list[str] | None, typer.Option("--tmpfs", metavar="DIR", help="A tmpfs mount (repeatable).")
    ] = None,
    volume: Annotated[
        list[str] | None,
        typer.Option(
            "--volume",
            "-v",
            metavar="HOST:CTR[:ro]",
            help="A bind mount (repeatable; the policy lists the host paths it allows).",
        ),
    ] = None,
    dockerfile: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="DOCKERFILE",
            help="Take USER, ENV, WORKDIR, ENTRYPOINT and CMD from this Dockerfile's target stage.",
        ),
    ] = None,
    pod: Annotated[
        Path | None,
        typer.Option(
            "--pod",
            metavar="FILE",
            help="Take the securityContext, command, args, env and workingDir of a container of this manifest.",
        ),
    ] = None,
    container: Annotated[
        str | None, typer.Option("--container", metavar="NAME", help="The container of --pod (when it has several).")
    ] = None,
    target: TargetOpt = None,
    build_arg: BuildArgOpt = None,
    runtime: Annotated[
        str,
        typer.Option(
            "--runtime",
            metavar="bundled|runc|crun",
            help="Who starts the container: the bundled runtime (needs root), or runc or crun given the OCI bundle.",
        ),
    ] = "bundled",
    tty: Annotated[bool, typer.Option("--tty", "-t", help="Give the container a pseudo-terminal.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the resolved context, the verdict and the OCI config.json; start nothing."
        ),
    ] = False,
    audit: Annotated[
        bool, typer.Option("--audit", help="Print what the policy refuses, and start the container anyway.")
    ] = False,
    config_file: ConfigOpt = None,
) -> None:
    """Start a container with exactly the resolved user and capabilities, or refuse (exit code 125).

    The context is resolved as lint resolves it (the --from Dockerfile's
    target stage, or the rootfs' root user) with these flags on top, judged
    by the run: policy of secpolicy.yaml, and started by the bundled runtime
    (the default; it needs root) or handed to runc or crun as an OCI bundle.
    The exit code is the command's: 125 when secpolicy refuses or cannot
    start it, 126 when the command is not executable, 127 when it is missing.
    """
    from secpolicy.runtime.command import RunRequest, execute

    request = RunRequest(
        command=command or [],
        rootfs=rootfs,
        user=user,
        group_add=group_add or [],
        cap_add=cap_add or [],
        cap_drop=cap_drop or [],
        ambient=ambient or [],
        privileged=privileged,
        read_only=read_only,
        security_opt=security_opt or [],
        env=env or [],
        env_file=env_file or [],
        workdir=workdir,
        hostname=hostname,
        network=network,
        tmpfs=tmpfs or [],
        volume=volume or [],
        dockerfile=dockerfile,
        pod=pod,
        container=container,
        target=target or [],
        build_arg=build_arg or [],
        runtime=runtime,
        tty=tty,
        dry_run=dry_run,
        audit=audit,
        config_file=config_file,
    )
    raise typer.Exit(execute(request))


config_app = typer.Typer(
    name="config",
    help="The configuration file: print its JSON Schema, or check a file against it.",
    no_args_is_help=True,
)
app.add_typer(config_app)


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of secpolicy.yaml (and of [tool.secpolicy] in pyproject.toml)."""
    import json

    from secpolicy import config

    typer.echo(json.dumps(config.schema(), indent=2))


@config_app.command("check")
def config_check(
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE", help="The file (default: the one secpolicy finds upwards from the current directory)."
        ),
    ] = None,
) -> None:
    """Check a configuration file: the schema, image references, paths, dates and rule ids.

    Exit code 0 when it is valid, 2 (with the file, line and key) when not.
    """
    from secpolicy import catalog, config

    path = file if file is not None else config.discover(Path.cwd())
    if path is None:
        _usage_error("no secpolicy.yaml, .secpolicy.yaml or pyproject.toml with [tool.secpolicy] found")
    try:
        cfg = config.load(path)
        rules = catalog.configured(catalog.load(), cfg)
    except (config.ConfigError, catalog.CatalogError) as exc:
        _usage_error(str(exc))
    typer.echo(
        f"{path}: valid ({len(rules)} rules, {len(cfg.images)} image-map entries, {len(cfg.exceptions)} exceptions)"
    )


image_app = typer.Typer(
    name="image",
    help="What secpolicy knows about images: their default user and environment, and where that came from.",
    no_args_is_help=True,
)
app.add_typer(image_app)


@image_app.command("inspect")
def image_inspect(
    reference: Annotated[str, typer.Argument(metavar="IMAGE", help="An image reference, e.g. nginx:1.27.")],
    images: ImagesOpt = None,
    platform: PlatformOpt = None,
    refresh_images: RefreshOpt = False,
    insecure_registry: InsecureOpt = None,
    config_file: ConfigOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", metavar="text|json", help="Output format.")] = Format.text,
) -> None:
    """Show the user and environment IMAGE starts a container with, and the source that says so.

    The image map of secpolicy.yaml comes first, then the sources of
    --images in order (default: the packaged table). Exit code 1 when no
    source knows the image's user.
    """
    from secpolicy import api
    from secpolicy.reference import InvalidReference, parse

    try:
        ref = parse(reference)
    except InvalidReference as exc:
        _usage_error(f"{reference}: {exc}")
    settings = _settings(
        config_file,
        None,
        None,
        images=images,
        platform=platform,
        refresh_images=refresh_images,
        insecure_registry=insecure_registry,
    )
    try:
        found = api.inspect_image(reference, settings)
    except api.UsageError as exc:
        _usage_error(str(exc))
    user = found.user
    if format is Format.json:
        import json

        doc = {
            "reference": reference,
            "normalized": str(ref),
            "user": user.to_json(),
            "env": dict(found.env),
            "env_complete": found.env_complete,
            "source": found.where,
            "config_digest": found.digest,
            "manifest_digest": found.manifest,
            "platform": found.platform,
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        if not user.known:
            shown = f"unknown: {user.reason}"
        elif user.uid == 0:
            shown = "root (uid 0)"
        elif user.uid is None:
            shown = f"{user.name} (a name; its uid is not fixed by the image)"
        else:
            shown = f"{user.name + ', ' if user.name and not user.name.isdigit() else ''}uid {user.uid}"
        lines = [f"image    {reference} ({ref})", f"user     {shown}"]
        if user.known:
            lines.append(f"because  {user.source}")
        if user.known:
            env = ", ".join(f"{k}={v}" for k, v in found.env.items()) or "(none)"
            partial = "" if found.env_complete else " (what the table records, not the whole Env)"
            lines.append(f"env      {env}{partial}")
        lines.append(f"source   {found.where or '(no source knows it)'}")
        if found.platform:
            lines.append(f"platform {found.platform}")
        if found.digest:
            lines.append(f"digest   {found.digest}" + (f" (manifest {found.manifest})" if found.manifest else ""))
        typer.echo("\n".join(printable_line(line) for line in lines))
    if not user.known:
        raise typer.Exit(1)


def printable_line(line: str) -> str:
    return line if line.isprintable() else line.encode("unicode_escape").decode("ascii")


@app.command()
def explain(rule: Annotated[str, typer.Argument(help="Rule id (DF101) or slug (root-user).")]) -> None:
    """Print one rule's documentation."""
    from secpolicy import catalog, docs

    found: Rule | None = catalog.find(catalog.load(), rule)
    if found is None:
        _usage_error(f"unknown rule {rule!r} (see 'secpolicy rules')")
    _write(docs.render(found), None)


def main(argv: list[str] | None = None) -> int:
    """Entry point; no traceback reaches the user unless SECPOLICY_DEBUG is set."""
    import gc

    # A lint builds large trees of long-lived objects (manifest nodes, findings) and makes almost no
    # cycles: the default thresholds rescan them so often that time grows faster than the input.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        app(args=argv, prog_name="secpolicy", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get("SECPOLICY_DEBUG"):
            raise
        typer.echo(
            f"secpolicy: internal error: {type(exc).__name__}: {exc} (set SECPOLICY_DEBUG=1 for a traceback)", err=True
        )
        return 2
    return 0
