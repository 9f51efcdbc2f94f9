"""Parse once, resolve once, run the enabled checks, apply suppressions."""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secpolicy import sources
from secpolicy.catalog import Rule
from secpolicy.checks import CHECKS, CheckDef, Hit
from secpolicy.config import Config
from secpolicy.discover import is_manifest
from secpolicy.dockerfile.instructions import Dockerfile, load
from secpolicy.dockerfile.syntax import DockerfileSyntaxError
from secpolicy.images.sources import ImageSources
from secpolicy.kube.versions import NEWEST, Version
from secpolicy.model import EffectiveContext, Finding, Severity
from secpolicy.resolve.dockerfile import Analysis, BuildError, TargetNotFound, analyze
from secpolicy.resolve.images import ImageResolver
from secpolicy.suppress import alias_map, scan
from secpolicy.targets import Kind

PARSE_ERROR = "SP001"
BAD_SUPPRESSION = "SP002"
DUPLICATE_KEY = "SP003"


def _key(hit: Hit) -> str:
    """A finding's identity within its file: its target and what it is about."""
    return ":".join(part for part in (hit.stage, hit.key) if part)


@dataclass
class LintOptions:
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    config: Config = field(default_factory=Config)
    profile: str = "default"  # only the rules of this profile run (SP001 always does)
    pss_version: Version = field(default_factory=lambda: Version(NEWEST))
    context: Path | None = None  # the build context of every Dockerfile (default: its directory, or the config's)
    images: ImageSources = field(default_factory=ImageSources)  # where image configs come from

    @property
    def pss_level(self) -> str:
        """The PSS level pod rules judge at: baseline for its profile, else restricted (which includes baseline)."""
        return "baseline" if self.profile == "pss-baseline" else "restricted"


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    analysis: Analysis | None = None
    error: str | None = None  # a usage problem (e.g. --target not in this file)
    contexts: list[EffectiveContext] | None = None  # a manifest's containers, when resolving


class Engine:
    def __init__(self, rules: Mapping[str, Rule], options: LintOptions) -> None:
        self.rules = rules
        self.options = options
        self.images = ImageResolver(options.config, options.build_args, sources=options.images)
        self._walked: dict[tuple[str, str], Any] = {}  # build contexts walked, shared by their Dockerfiles
        self.exceptions = Exceptions(options.config)
        self.aliases = alias_map(rules.values())  # hadolint:DL3002 -> DF101, for migrated pragmas
        # the enabled rules with a check, per target kind, indexed once
        self.by_kind: dict[Kind, list[tuple[Rule, CheckDef]]] = {kind: [] for kind in Kind}
        for rule in rules.values():
            check = CHECKS.get(rule.check)
            if check is not None and self.enabled(rule.id):
                self.by_kind[Kind(rule.target)].append((rule, check))

    def enabled(self, rule_id: str) -> bool:
        if rule_id == PARSE_ERROR:
            return True  # a file that was not linted is never hidden
        rule = self.rules.get(rule_id)
        if rule is not None and self.options.profile not in rule.profiles:
            return False
        if self.options.select and not any(rule_id.startswith(s) for s in self.options.select):
            return False
        return not any(rule_id.startswith(s) for s in self.options.ignore)

    # -- linting -------------------------------------------------------------
    def read_and_lint(self, path: Path, display: str) -> FileResult:
        if is_manifest(path.name):
            return self._read(path, display, self.lint_manifest, sources.MAX_MANIFEST_BYTES)
        return self._read(path, display, lambda text, shown: self.lint_text(text, shown, path))

    def read_and_resolve(self, path: Path, display: str) -> FileResult:
        if is_manifest(path.name):
            return self._read(path, display, self.resolve_manifest, sources.MAX_MANIFEST_BYTES)
        return self._read(path, display, self.resolve_text)

    def _read(
        self, path: Path, display: str, then: Callable[[str, str], FileResult], limit: int = sources.MAX_BYTES
    ) -> FileResult:
        try:
            text = sources.read(path, limit)
        except sources.SourceError as exc:
            return self.unreadable(display, exc)
        return then(text, display)

    def resolve_text(self, text: str, display: str) -> FileResult:
        """Parse and resolve one Dockerfile, running no rule: the analysis, or why there is none (SP001)."""
        return self._guarded(lambda: self._analyse(text, display)[0], display)

    def unreadable(self, display: str, exc: sources.SourceError) -> FileResult:
        return FileResult(display, [self._parse_error(display, exc.line, exc.reason)])

    def parse(self, text: str, display: str) -> Dockerfile | Finding:
        try:
            return load(text, display)
        except DockerfileSyntaxError as exc:
            return self._parse_error(display, exc.line, exc.message)

    def analyze(self, df: Dockerfile) -> Analysis:
        return analyze(df, build_args=self.options.build_args, target=self.options.target, base_user=self.images.image)

    def lint_text(self, text: str, display: str, source: Path | None = None) -> FileResult:
        """Lint one Dockerfile; the analysis is kept only on request (it is large).

        Whatever goes wrong inside becomes SP001 for this file alone: the
        findings of every other file are still reported.
        """
        return self._guarded(lambda: self._lint_text(text, display, source), display)

    def _guarded(self, work: Callable[[], FileResult], display: str) -> FileResult:
        try:
            return work()
        except RecursionError:
            return FileResult(display, [self._parse_error(display, 1, "nesting too deep for this analysis")])
        except Exception as exc:
            reason = f"internal error while linting ({type(exc).__name__}: {exc}); please report it"
            return FileResult(display, [self._parse_error(display, 1, reason)])

    def _analyse(self, text: str, display: str) -> tuple[FileResult, Dockerfile | None]:
        parsed = self.parse(text, display)
        if isinstance(parsed, Finding):
            return FileResult(display, [parsed]), None
        try:
            analysis = self.analyze(parsed)
        except TargetNotFound as exc:
            return FileResult(display, error=f"{display}: {exc}"), None
        except BuildError as exc:
            return FileResult(display, [self._parse_error(display, exc.line, exc.message)]), None
        error = analysis.build_error()
        if error is not None:
            return FileResult(display, [self._parse_error(display, error.line, error.message)]), None
        return FileResult(display, analysis=analysis), parsed

    def _context_target(self, analysis: Analysis, source: Path, display: str) -> object:
        """The build context of the Dockerfile at ``source`` (its directory), walked once per Dockerfile."""
        from secpolicy.context.target import build

        context = self.options.context or self.options.config.context_of(source) or source.parent
        return build(analysis, source, context, display, self._walked)

    def _lint_text(self, text: str, display: str, source: Path | None = None) -> FileResult:
        result, parsed = self._analyse(text, display)
        analysis = result.analysis
        if analysis is None or parsed is None:
            return result
        suppressions = scan(parsed.parsed.comments, self.rules.keys(), self.aliases)
        # instructions do not overlap and come in order: the one holding a line is found by bisection
        starts = [n.line for n in parsed.parsed.nodes]
        ends = [n.end_line for n in parsed.parsed.nodes]
        lines = text.split("\n")
        runs: list[tuple[Rule, CheckDef, object]] = [(r, c, analysis) for r, c in self.by_kind[Kind.DOCKERFILE]]
        if source is not None and self.by_kind[Kind.CONTEXT]:
            context = self._context_target(analysis, source, display)
            runs += [(r, c, context) for r, c in self.by_kind[Kind.CONTEXT]]
        for rule, check, target in runs:
            for hit in check.run(target, rule.settings):
                index = bisect.bisect_right(starts, hit.line) - 1
                inside = index >= 0 and hit.line <= ends[index]
                first = starts[index] if inside else hit.line
                suppressed, reason = suppressions.lookup(rule.id, first, hit.key)
                if not suppressed:
                    reason = self.exceptions.reason(rule.id, hit.at.path if hit.at else display)
                    suppressed = reason is not None
                # a finding at an instruction's first line covers the whole instruction
                end_line = ends[index] if inside and hit.line == first else hit.line
                end_column = len(lines[end_line - 1]) + 1 if 0 < end_line <= len(lines) else hit.column
                at = hit.at
                result.findings.append(
                    Finding(
                        rule.id,
                        rule.severity,
                        hit.message,
                        at.path if at else display,
                        at.line if at else hit.line,
                        at.column if at else hit.column,
                        hit.stage,
                        suppressed,
                        reason,
                        at.end_line if at else end_line,
                        at.end_column if at else max(end_column, hit.column),
                        _key(hit),
                    )
                )
        judged = {rule.id for rule, _, _ in runs}
        self._suppression_problems(result, suppressions.problems + suppressions.unused(judged), display)
        result.findings = sorted(set(result.findings), key=Finding.sort_key)
        result.analysis = None  # large, and a lint keeps only findings (resolve_text keeps it)
        return result

    def _suppression_problems(self, result: FileResult, problems: list[tuple[int, str]], display: str) -> None:
        """SP002 for each pragma or annotation that could not be read."""
        if self.enabled(BAD_SUPPRESSION) and BAD_SUPPRESSION in self.rules:
            severity = self.rules[BAD_SUPPRESSION].severity
            result.findings += [
                Finding(BAD_SUPPRESSION, severity, message, display, line) for line, message in problems
            ]

    def _parse_error(
        self, display: str, line: int, reason: str, column: int = 1, field: str | None = None, *, raw: bool = False
    ) -> Finding:
        """``raw``: ``reason`` is already the whole message (it says what could not be linted)."""
        rule = self.rules.get(PARSE_ERROR)
        severity = rule.severity if rule else Severity.ERROR
        message = reason if raw else f"cannot lint this file: {reason}"
        return Finding(PARSE_ERROR, severity, message, display, max(line, 1), column, field=field)

    # -- manifests -----------------------------------------------------------
    def lint_manifest(self, text: str, display: str) -> FileResult:
        """Lint every workload of a YAML/JSON manifest stream; other YAML (not Kubernetes) yields nothing."""
        return self._guarded(lambda: self._manifest(text, display, resolve=False), display)

    def resolve_manifest(self, text: str, display: str) -> FileResult:
        return self._guarded(lambda: self._manifest(text, display, resolve=True), display)

    def _manifest(self, text: str, display: str, *, resolve: bool) -> FileResult:
        from secpolicy.kube import manifest
        from secpolicy.kube.suppress import manifest_suppressions
        from secpolicy.resolve.kube import ContainerTarget, PodTarget, container_context

        result = FileResult(display, contexts=[] if resolve else None)
        loaded = manifest.read(text, display, self.options.config.workloads)
        for problem in loaded.problems:
            result.findings.append(
                self._parse_error(display, problem.line, problem.message, problem.column, problem.field, raw=True)
            )
        for line, column, key in loaded.duplicates:
            if not resolve and self.enabled(DUPLICATE_KEY) and DUPLICATE_KEY in self.rules:
                rule = self.rules[DUPLICATE_KEY]
                message = f"key {key!r} is repeated in this mapping: the API server keeps the last value, and so does secpolicy"
                result.findings.append(Finding(DUPLICATE_KEY, rule.severity, message, display, line, column, key=key))
        suppressions = manifest_suppressions(text, loaded, self.rules.keys(), self.aliases)
        options = self.options
        for pod in loaded.pods:
            contexts = []
            for container in pod.containers:
                context = container_context(pod, container, self.images, options.config.runtime)
                contexts.append(ContainerTarget(pod, container, context, options.config.runtime))
            if resolve and result.contexts is not None:
                result.contexts.extend(t.context for t in contexts)
                continue
            pod_target = PodTarget(pod, options.pss_level, options.pss_version)
            runs: list[tuple[object, str | None]] = [(pod_target, None)] + [(t, t.container.name) for t in contexts]
            for target, container_name in runs:
                kind = Kind.POD if container_name is None else Kind.CONTAINER
                for rule, check in self.by_kind[kind]:
                    for hit in check.run(target, rule.settings):
                        at = hit.at or pod.at
                        suppressed, reason = suppressions.lookup(rule.id, pod, container_name, at, hit.key)
                        if not suppressed:
                            reason = self.exceptions.reason(rule.id, at.path, pod.template.name, pod.template.namespace)
                            suppressed = reason is not None
                        result.findings.append(
                            Finding(
                                rule.id,
                                rule.severity,
                                hit.message,
                                at.path,
                                at.line,
                                at.column,
                                hit.stage,
                                suppressed,
                                reason,
                                at.end_line,
                                at.end_column,
                                _key(hit),
                                at.field,
                            )
                        )
        if not resolve:
            judged = {rule.id for kind in (Kind.POD, Kind.CONTAINER) for rule, _ in self.by_kind[kind]}
            self._suppression_problems(result, suppressions.problems + suppressions.unused(judged), display)
        result.findings = sorted(set(result.findings), key=Finding.sort_key)
        return result


EXCEPTION = "exception at "  # how a finding suppressed by a config exception says so


class Exceptions:
    """The config's accepted findings: rule, path globs (relative to the config's directory), object, expiry."""

    def __init__(self, config: Config) -> None:
        import datetime

        self.config = config
        self.today = datetime.date.today()
        self._live = []
        for item in config.exceptions:
            if item.expired(self.today):
                continue  # reported once per run (api.exception_problems), and no longer suppresses
            spec = None
            if item.paths:
                import pathspec

                spec = pathspec.PathSpec.from_lines("gitwildmatch", item.paths)
            self._live.append((item, spec))

    def reason(self, rule: str, path: str, name: str | None = None, namespace: str | None = None) -> str | None:
        for item, spec in self._live:
            if rule not in item.rules:
                continue
            if item.name is not None and item.name != name:
                continue
            if item.namespace is not None and item.namespace != namespace:
                continue
            if spec is not None and not spec.match_file(self._relative(path)):
                continue
            return f"{EXCEPTION}{self.config.where(item.line)}: {item.reason}"
        return None

    def _relative(self, path: str) -> str:
        try:
            return Path(os.path.relpath(os.path.abspath(path), self.config.directory)).as_posix()
        except ValueError:
            return path
