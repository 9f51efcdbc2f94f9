"""One manifest file to the pods it declares, and the problems that keep parts of it from being judged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from secpolicy.kube.load import Stream, load
from secpolicy.kube.nodes import Map
from secpolicy.kube.spec import Pod, decode
from secpolicy.kube.workloads import Malformed, WorkloadKind, describe, objects, templates

HELM_HINT = (
    "this looks like a Helm or Go template ({{ }} is not YAML): lint the rendered output instead, "
    "e.g. helm template CHART | secpolicy lint -"
)


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    message: str
    field: str | None = None


@dataclass
class Loaded:
    pods: list[Pod] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)  # line, column, key
    stream: Stream | None = None


def _malformed(found: Malformed) -> Problem:
    return Problem(found.line, found.column, f"cannot lint this object: {found.message}", found.field)


def _what(value: object) -> str:
    return "a mapping without string apiVersion and kind" if isinstance(value, Map) else describe(value)


def _templated(text: str, line: int) -> bool:
    """Is the YAML error at ``line`` caused by Go template syntax (``{{`` on it or the lines around it)?"""
    if "{{" not in text:
        return False
    lines = text.split("\n")
    return any("{{" in lines[i] for i in range(max(0, line - 3), min(len(lines), line + 1)))


def read(text: str, display: str, workloads: Sequence[WorkloadKind] = ()) -> Loaded:
    """Pods of every workload in ``text``; YAML that is not Kubernetes at all yields nothing and no problem."""
    out = Loaded()
    if "apiVersion" not in text or "kind" not in text:
        return out  # cheap: CI workflows, package.json, Helm values... never hold an object
    stream = load(text)
    out.stream = stream
    if stream.errors and _templated(text, stream.errors[0].line):
        # an unrendered chart: its valid parts would be judged with their template placeholders
        first = stream.errors[0]
        out.problems.append(Problem(first.line, first.column, f"cannot lint this file: {first.message}; {HELM_HINT}"))
        return out
    for error in stream.errors:
        out.problems.append(Problem(error.line, error.column, f"cannot lint this part of the file: {error.message}"))
    found_objects = [(doc, list(objects(doc.value))) for doc in stream.documents]
    if not any(objs for _, objs in found_objects):
        return out  # not a Kubernetes manifest
    for doc, objs in found_objects:
        if not objs and doc.value is not None:
            out.problems.append(
                Problem(
                    doc.line,
                    1,
                    f"cannot lint the document at line {doc.line}: it is {_what(doc.value)}, not a Kubernetes "
                    "object (kubectl would reject it)",
                )
            )
            continue
        if objs:
            out.duplicates += [(span[0], span[1], key) for span, key in doc.duplicates]
        for found in objs:
            if isinstance(found, Malformed):
                out.problems.append(_malformed(found))
                continue
            obj, obj_path = found
            for template in templates(obj, obj_path, workloads):
                if isinstance(template, Malformed):
                    out.problems.append(_malformed(template))
                    continue
                decoded = decode(template, display)
                if isinstance(decoded, Pod):
                    out.pods.append(decoded)
                    continue
                for problem in decoded:
                    out.problems.append(
                        Problem(
                            problem.at.line,
                            problem.at.column,
                            f"cannot lint {template.label}: {problem.message}; the API server would reject it",
                            problem.at.field,
                        )
                    )
    return out
