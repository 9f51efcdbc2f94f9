"""The library interface: what ``secpolicy lint`` and ``secpolicy resolve`` do, returning objects.

    from secpolicy import api
    report = api.lint(["services/"], api.Settings(build_args={"UID": "10001"}))
    for finding in report.findings:
        print(finding.path, finding.line, finding.rule, finding.message)

Reading inputs happens here and only here: stdin, the files named, and the
Dockerfiles found below the directories named.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from secpolicy import sources
from secpolicy.engine import Engine, FileResult
from secpolicy.model import EffectiveContext, Finding
from secpolicy.report import Report

if TYPE_CHECKING:
    from secpolicy.catalog import Rule
    from secpolicy.config import Config
    from secpolicy.images.sources import ImageSources
    from secpolicy.resolve.images import BaseImage


class UsageError(ValueError):
    """Settings that cannot be used: an unknown rule id, an invalid policy file, a broken rule catalog."""


@dataclass(frozen=True)
class Settings:
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None  # the stage to judge (default: the last)
    select: Sequence[str] = ()  # rule ids or prefixes
    ignore: Sequence[str] = ()
    config: Path | None = None  # default: secpolicy.yaml / .secpolicy.yaml found upwards from the first path
    exclude: Sequence[str] = ()  # gitignore-style patterns the walk skips
    stdin_filename: str = "<stdin>"
    profile: str | None = None  # default | pss-baseline | pss-restricted (None: the config's, else default)
    pss_version: str | None = None  # v1.N or latest: the PSS version pod rules judge at (None: config, else latest)
    context: Path | None = None  # the build context of the Dockerfiles (default: each one's directory)
    images: Sequence[str] = ()  # image sources (--images), in order; default: the config's, else builtin
    platform: str | None = None  # an image index is resolved to this platform (default linux/amd64)
    refresh_images: bool = False  # re-resolve tags the cache holds
    insecure_registries: Sequence[str] = ()


@dataclass
class Resolution:
    """What ``resolve`` found: the contexts, the files that could not be resolved, usage errors."""

    contexts: list[EffectiveContext]
    failures: list[FileResult]
    errors: list[str]


def engine(paths: Sequence[Path], settings: Settings) -> Engine:
    """The engine of the run: the config given with --config, else the one nearest the first path."""
    from secpolicy import config

    cfg_path = settings.config
    if cfg_path is None:
        start = next((p for p in paths if str(p) != "-"), Path.cwd())
        cfg_path = config.discover(start)
    return engine_for(cfg_path, settings)


class Engines:
    """The engine for each linted file: that of the config nearest the file (as ruff and yamllint find theirs)."""

    def __init__(self, first: Engine, settings: Settings) -> None:
        self.first = first
        self.settings = settings
        self.by_config: dict[Path | None, Engine] = {first.options.config.path: first}
        self._nearest: dict[Path, Path | None] = {}  # directory -> its config

    def for_file(self, path: Path) -> Engine:
        if self.settings.config is not None:
            return self.first  # --config: one configuration for every file

        found = self._nearest_to(path)
        if found not in self.by_config:
            self.by_config[found] = engine_for(found, self.settings)
        return self.by_config[found]

    def _nearest_to(self, path: Path) -> Path | None:
        """``config.discover`` with every directory's answer remembered (most files share their parents)."""
        from secpolicy import config

        try:
            start = path.resolve().parent
        except (OSError, RuntimeError):
            return config.discover(path)
        chain = []
        directory: Path | None = start
        while directory is not None and directory not in self._nearest:
            chain.append(directory)
            own = config.config_in(directory)
            if own is not None:
                self._nearest[directory] = own
                break
            directory = directory.parent if directory.parent != directory else None
        found = self._nearest.get(directory) if directory is not None else None
        for each in chain:
            self._nearest.setdefault(each, found)
        return found


def engine_for(cfg_path: Path | None, settings: Settings) -> Engine:
    from secpolicy import catalog, config
    from secpolicy.engine import LintOptions

    try:
        cfg = config.load(cfg_path) if cfg_path else config.Config()
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        rules = catalog.configured(catalog.load(), cfg)
    except catalog.CatalogError as exc:
        raise UsageError(str(exc)) from None
    # defaults <- the config file <- the command line
    profile = settings.profile or cfg.profile or "default"
    if profile not in catalog.PROFILES:
        raise UsageError(f"unknown profile {profile!r} (use one of {', '.join(sorted(catalog.PROFILES))})")
    select = [s.upper() for s in settings.select]
    ignore = [s.upper() for s in settings.ignore]
    for rid in select + ignore:
        if not any(r.startswith(rid) for r in rules):
            raise UsageError(f"unknown rule or prefix {rid!r} (see 'secpolicy rules')")
    ignore += [rule for rule, setting in cfg.rules.items() if setting.enabled is False and rule not in select]
    from secpolicy.kube.versions import VersionError, parse_version

    try:
        version = parse_version(settings.pss_version or cfg.pss_version or "latest")
    except VersionError as exc:
        raise UsageError(str(exc)) from None
    if settings.context is not None and not settings.context.is_dir():
        raise UsageError(f"--context {settings.context}: not a directory")
    options = LintOptions(
        dict(settings.build_args),
        settings.target,
        select,
        ignore,
        cfg,
        profile,
        version,
        settings.context,
        image_sources(settings, cfg),
    )
    return Engine(rules, options)


def image_sources(settings: Settings, cfg: Config) -> ImageSources:
    """The image sources of a run: --images, else the config's image-sources, else the packaged table."""
    from secpolicy.images.platform import Platform
    from secpolicy.images.sources import BUILTIN, ImageSources, SourceSpec, parse_spec

    try:
        specs = [parse_spec(text) for text in settings.images] or cfg.image_sources or [SourceSpec(BUILTIN)]
        platform = settings.platform or cfg.platform or "linux/amd64"
        Platform.parse(platform)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    insecure = frozenset([*settings.insecure_registries, *cfg.insecure_registries])
    return ImageSources(specs, platform, settings.refresh_images, insecure)


_YAML_KEY = re.compile(r"""(?:[A-Za-z0-9_.-]+|"[^"]*"|'[^']*')[ \t]*:(?:[ \t]|$)""")


def _looks_like_manifest(name: str, text: str) -> bool:
    """For stdin: by the name given with --stdin-filename, else by the first line that is not a comment."""
    from secpolicy.discover import is_dockerfile, is_manifest

    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if is_manifest(base):
        return True
    if is_dockerfile(base):
        return False
    for line in text.split("\n", 200)[:200]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        # a Dockerfile line is an instruction and its arguments ("FROM x"); YAML starts with a marker,
        # a directive, a flow collection, a list item or a "key:" (no Dockerfile instruction ends in ":")
        return stripped.startswith(("---", "%YAML", "{", "[", "- ")) or _YAML_KEY.match(stripped) is not None
    return False


def collect(
    eng: Engine,
    paths: Sequence[Path],
    settings: Settings,
    *,
    stdin: BinaryIO | None = None,
    resolve_only: bool = False,
    engines: Engines | None = None,
) -> tuple[list[FileResult], list[str]]:
    """One result per input, in the order of the paths and of the walk; errors are usage problems.

    Each file is judged by the engine of its nearest config (``engines``); stdin by the run's.
    """
    from secpolicy import parallel, sources
    from secpolicy.discover import discover

    engines = engines or Engines(eng, settings)
    results: list[FileResult | None] = []
    jobs: dict[int, list[tuple[int, Path, str]]] = {}  # id(engine) -> (slot, path, display)
    base = Path.cwd()
    seen: set[str] = set()

    for path in paths:
        if str(path) == "-":
            try:
                # a rendered chart is a manifest stream: read up to the manifest limit, then decide
                data = stdin.read(sources.MAX_MANIFEST_BYTES + 1) if stdin is not None else b""
                text = sources.decode(data, sources.MAX_MANIFEST_BYTES)
                name = settings.stdin_filename
                manifest = _looks_like_manifest(name, text)
                if not manifest and len(data) > sources.MAX_BYTES:
                    raise sources.SourceError(f"file is too large (more than {sources.MAX_BYTES} bytes, the limit)")
                if manifest:
                    results.append(eng.resolve_manifest(text, name) if resolve_only else eng.lint_manifest(text, name))
                else:
                    results.append(eng.resolve_text(text, name) if resolve_only else eng.lint_text(text, name))
            except sources.SourceError as exc:
                results.append(eng.unreadable(settings.stdin_filename, exc))
            continue
        for found in discover([path], [*settings.exclude, *eng.options.config.exclude]):
            key = os.path.normpath(os.path.abspath(found.path))
            if key in seen:
                continue  # named twice, or named and found by a walk (pre-commit passes a Dockerfile and its .dockerignore)
            seen.add(key)
            display = sources.display(found.path, base)
            owner = engines.for_file(found.path)
            if found.problem:
                results.append(owner.unreadable(display, sources.SourceError(found.problem)))
            elif resolve_only:
                results.append(owner.read_and_resolve(found.path, display))
            else:
                jobs.setdefault(id(owner), []).append((len(results), found.path, display))
                results.append(None)
    by_id = {id(e): e for e in engines.by_config.values()}
    for ident, group in jobs.items():
        owner = by_id[ident]
        if owner.images.sources.remote:
            from secpolicy.images.prefetch import prefetch, references

            prefetch(owner.images, references(path for _, path, _ in group))
        # files are linted last, on every core when there are many
        linted = parallel.lint_files(owner, [(path, display) for _, path, display in group])
        for (slot, _, _), result in zip(group, linted, strict=True):
            results[slot] = result
    done = [r for r in results if r is not None]
    return done, [r.error for r in done if r.error]


def lint(paths: Sequence[str | Path], settings: Settings | None = None, *, stdin: BinaryIO | None = None) -> Report:
    """Lint the Dockerfiles at ``paths`` (``"-"`` reads ``stdin``)."""
    settings = settings or Settings()
    path_list = [Path(p) for p in paths] or [Path(".")]
    eng = engine(path_list, settings)
    engines = Engines(eng, settings)
    results, errors = collect(eng, path_list, settings, stdin=stdin, engines=engines)
    ran_ids: dict[str, Rule] = {}
    problems: list[Finding] = []
    for each in engines.by_config.values():
        ran_ids.update(
            (rule.id, rule) for rule in each.rules.values() if each.enabled(rule.id) and rule.id not in ran_ids
        )
        problems += exception_problems(each, results)
    ran = list(ran_ids.values())
    findings = [f for r in results for f in r.findings] + problems
    linted = [r.path for r in results]
    return Report(ran, findings, errors, len(results), linted, eng.options.config.fail_on)


def resolve(
    paths: Sequence[str | Path],
    settings: Settings | None = None,
    *,
    stdin: BinaryIO | None = None,
    all_stages: bool = False,
) -> Resolution:
    """The effective context of each target (every stage with ``all_stages``), running no rule."""
    from secpolicy.resolve.effective import stage_context

    settings = settings or Settings()
    path_list = [Path(p) for p in paths] or [Path(".")]
    eng = engine(path_list, settings)
    results, errors = collect(eng, path_list, settings, stdin=stdin, resolve_only=True)
    contexts: list[EffectiveContext] = []
    failures: list[FileResult] = []
    for result in results:
        if result.contexts is not None:
            contexts += result.contexts
            if any(f.rule == "SP001" for f in result.findings):
                failures.append(result)
            continue
        analysis = result.analysis
        if analysis is None:
            if not result.error:
                failures.append(result)
            continue
        # the target's context is the very object the rules judge
        contexts += [
            analysis.context if state is analysis.target else stage_context(result.path, state)
            for state in (analysis.states if all_stages else [analysis.target])
        ]
    return Resolution(contexts, failures, errors)


def inspect_image(reference: str, settings: Settings) -> BaseImage:
    """What the image map and the image sources say an image starts with (``secpolicy image inspect``)."""
    from secpolicy import config
    from secpolicy.resolve.images import ImageResolver

    cfg_path = settings.config or config.discover(Path.cwd())
    try:
        cfg = config.load(cfg_path) if cfg_path else config.Config()
    except config.ConfigError as exc:
        raise UsageError(str(exc)) from None
    resolver = ImageResolver(cfg, sources=image_sources(settings, cfg))
    return resolver.image(reference, what="image", fix="name a source that has it (--images registry, daemon, oci:DIR)")


def exception_problems(eng: Engine, results: Sequence[FileResult]) -> list[Finding]:
    """SP002 for each config exception that has expired (it no longer suppresses) or that matched no finding."""
    from secpolicy.engine import BAD_SUPPRESSION, EXCEPTION
    from secpolicy.model import Severity

    cfg = eng.options.config
    if not cfg.exceptions or cfg.path is None or not eng.enabled(BAD_SUPPRESSION):
        return []
    rule = eng.rules.get(BAD_SUPPRESSION)
    severity = rule.severity if rule else Severity.WARNING
    used = {
        (f.suppression or "").split(": ", 1)[0]
        for r in results
        for f in r.findings
        if (f.suppression or "").startswith(EXCEPTION)
    }
    shown = sources.display(cfg.path, Path.cwd())
    out = []
    for item in cfg.exceptions:
        rules = ", ".join(item.rules)
        if item.expired(eng.exceptions.today):
            message = f"the exception for {rules} expired on {item.expires}: it no longer suppresses; renew it or fix what it covered ({item.reason})"
        elif f"{EXCEPTION}{cfg.where(item.line)}" not in used:
            message = f"the exception for {rules} matches no finding: remove it ({item.reason})"
        else:
            continue
        out.append(Finding(BAD_SUPPRESSION, severity, message, shown, item.line or 1, key=f"exception:{item.line}"))
    return out
