"""Parse once, resolve once, run the enabled checks, apply suppressions."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from secpolicy import sources
from secpolicy.catalog import Rule
from secpolicy.checks import CHECKS
from secpolicy.config import Config
from secpolicy.dockerfile.instructions import Dockerfile, load
from secpolicy.dockerfile.syntax import DockerfileSyntaxError
from secpolicy.model import EffectiveUser, Finding, Provenance, Severity
from secpolicy.resolve.dockerfile import Analysis, BuildError, TargetNotFound, analyze
from secpolicy.resolve.images import builtin_user, parse_ref, unknown_base_user
from secpolicy.resolve.user import parse_user
from secpolicy.suppress import scan

PARSE_ERROR = "SP001"
BAD_SUPPRESSION = "SP002"


@dataclass
class LintOptions:
    build_args: Mapping[str, str] = field(default_factory=dict)
    target: str | None = None
    select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    config: Config = field(default_factory=Config)


@dataclass
class FileResult:
    path: str
    findings: list[Finding] = field(default_factory=list)
    analysis: Analysis | None = None
    error: str | None = None  # a usage problem (e.g. --target not in this file)


class Engine:
    def __init__(self, rules: Mapping[str, Rule], options: LintOptions) -> None:
        self.rules = rules
        self.options = options
        self._image_users: dict[tuple[str, str | None], EffectiveUser] = {}
        self._resolving: set[tuple[str, str | None]] = set()

    def enabled(self, rule_id: str) -> bool:
        if rule_id == PARSE_ERROR:
            return True  # a file that was not linted is never hidden
        if self.options.select and not any(rule_id.startswith(s) for s in self.options.select):
            return False
        return not any(rule_id.startswith(s) for s in self.options.ignore)

    # -- base images ---------------------------------------------------------
    def base_user(self, ref_text: str) -> EffectiveUser:
        ref = parse_ref(ref_text)
        if ref is None:
            return unknown_base_user(ref_text, f"base image {ref_text!r} is not a valid image reference")
        entry = self.options.config.image(ref)
        if entry is not None:
            config_path = self.options.config.path
            shown = sources.display(config_path, Path.cwd()) if config_path else "secpolicy.yaml"
            where = f"image map {shown}:{entry.line}"
            if entry.user is not None:
                return parse_user(entry.user, Provenance(f"base image {ref_text}: {where} sets user {entry.user}"))
            assert entry.dockerfile is not None
            return self._user_of_dockerfile(entry.dockerfile, entry.target, ref_text, where)
        return builtin_user(ref) or unknown_base_user(ref_text)

    def _user_of_dockerfile(self, path: Path, target: str | None, ref_text: str, where: str) -> EffectiveUser:
        key = (str(path.resolve()), target)
        if key in self._image_users:
            return self._image_users[key]
        if key in self._resolving:
            return unknown_base_user(ref_text, f"{where}: image map refers back to itself ({path})")
        self._resolving.add(key)
        try:
            df = load(sources.read(path), str(path))
            analysis = analyze(df, build_args=self.options.build_args, target=target, base_user=self.base_user)
            user = analysis.target.user
            source = Provenance(f"base image {ref_text} is built by {path} ({where}); there: {user.source}")
            result = replace(user, source=source)
            error = analysis.build_error()
            if error is not None:
                result = unknown_base_user(ref_text, f"{where}: {path}:{error.line}: {error.message}")
        except (sources.SourceError, DockerfileSyntaxError, TargetNotFound, BuildError) as exc:
            result = unknown_base_user(ref_text, f"{where}: cannot resolve {path}: {exc}")
        except Exception as exc:  # an image-map Dockerfile is untrusted input too
            result = unknown_base_user(
                ref_text, f"{where}: cannot resolve {path}: internal error: {type(exc).__name__}"
            )
        finally:
            self._resolving.discard(key)
        self._image_users[key] = result
        return result

    # -- linting -------------------------------------------------------------
    def read_and_lint(self, path: Path, display: str, *, keep_analysis: bool = False) -> FileResult:
        try:
            text = sources.read(path)
        except sources.SourceError as exc:
            return self.unreadable(display, exc)
        return self.lint_text(text, display, keep_analysis=keep_analysis)

    def unreadable(self, display: str, exc: sources.SourceError) -> FileResult:
        return FileResult(display, [self._parse_error(display, exc.line, exc.reason)])

    def parse(self, text: str, display: str) -> Dockerfile | Finding:
        try:
            return load(text, display)
        except DockerfileSyntaxError as exc:
            return self._parse_error(display, exc.line, exc.message)

    def analyze(self, df: Dockerfile) -> Analysis:
        return analyze(df, build_args=self.options.build_args, target=self.options.target, base_user=self.base_user)

    def lint_text(self, text: str, display: str, *, keep_analysis: bool = False) -> FileResult:
        """Lint one Dockerfile; the analysis is kept only on request (it is large).

        Whatever goes wrong inside becomes SP001 for this file alone: the
        findings of every other file are still reported.
        """
        try:
            return self._lint_text(text, display, keep_analysis=keep_analysis)
        except RecursionError:
            return FileResult(display, [self._parse_error(display, 1, "nesting too deep for this analysis")])
        except Exception as exc:
            reason = f"internal error while linting ({type(exc).__name__}: {exc}); please report it"
            return FileResult(display, [self._parse_error(display, 1, reason)])

    def _lint_text(self, text: str, display: str, *, keep_analysis: bool) -> FileResult:
        parsed = self.parse(text, display)
        if isinstance(parsed, Finding):
            return FileResult(display, [parsed])
        try:
            analysis = self.analyze(parsed)
        except TargetNotFound as exc:
            return FileResult(display, error=f"{display}: {exc}")
        except BuildError as exc:
            return FileResult(display, [self._parse_error(display, exc.line, exc.message)])
        error = analysis.build_error()
        if error is not None:
            return FileResult(display, [self._parse_error(display, error.line, error.message)])
        result = FileResult(display, analysis=analysis)
        suppressions = scan(parsed.parsed.comments, self.rules.keys())
        # instructions do not overlap and come in order: the one holding a line is found by bisection
        starts = [n.line for n in parsed.parsed.nodes]
        ends = [n.end_line for n in parsed.parsed.nodes]
        for rule in self.rules.values():
            check = CHECKS.get(rule.check)
            if rule.target != "dockerfile" or check is None or not self.enabled(rule.id):
                continue
            for hit in check(analysis, rule.params):
                index = bisect.bisect_right(starts, hit.line) - 1
                first = starts[index] if index >= 0 and hit.line <= ends[index] else hit.line
                suppressed, reason = suppressions.lookup(rule.id, first, hit.key)
                result.findings.append(
                    Finding(
                        rule.id,
                        rule.severity,
                        hit.message,
                        display,
                        hit.line,
                        hit.column,
                        hit.stage,
                        suppressed,
                        reason,
                    )
                )
        if self.enabled(BAD_SUPPRESSION) and BAD_SUPPRESSION in self.rules:
            sev = self.rules[BAD_SUPPRESSION].severity
            for line, message in suppressions.problems:
                result.findings.append(Finding(BAD_SUPPRESSION, sev, message, display, line))
        result.findings = sorted(set(result.findings), key=Finding.sort_key)
        if not keep_analysis:
            result.analysis = None
        return result

    def _parse_error(self, display: str, line: int, reason: str) -> Finding:
        rule = self.rules.get(PARSE_ERROR)
        severity = rule.severity if rule else Severity.ERROR
        return Finding(PARSE_ERROR, severity, f"cannot lint this file: {reason}", display, max(line, 1))
