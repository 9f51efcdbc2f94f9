"""Suppressions in manifests: YAML comments and annotations.

* ``# secpolicy: ignore=K8S203 reason=…`` on its own line (or in a block of
  comment lines) right above an object, a container, or a field covers the
  findings about that node and everything below it; ``ignore-file=`` covers
  the file.  Lines inside multi-line strings are text, never pragmas.
* The annotation ``secpolicy.dev/ignore`` on an object's metadata or its pod
  template's metadata covers the findings of that pod;
  ``secpolicy.dev/ignore.<container>`` only those about that container (a
  PSS finding is about a container when it points into it).  The value is
  ``IDS: reason`` entries separated by ``;`` or new lines, IDS separated by
  commas: ``"K8S203,K8S201: the CNI needs raw sockets; K8S205: writes /var"``.

A reason is required.  A malformed entry, or one naming an unknown rule, is
itself a finding (SP002) and suppresses nothing; so is one that matches no
finding.  checkov's annotations (``checkov.io/skip1: CKV_K8S_20=reason``)
suppress the rules that list those checks among their aliases, for the pod.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from secpolicy.kube.nodes import Map, Seq
from secpolicy.suppress import Entries, Tracked, pragma

if TYPE_CHECKING:
    from secpolicy.kube.manifest import Loaded
    from secpolicy.kube.spec import Pod
    from secpolicy.model import Location

ANNOTATION = "secpolicy.dev/ignore"
CHECKOV_ANNOTATION = "checkov.io/skip"
APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"
SECCOMP_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"
_COMMENT = re.compile(r"^[ \t]*(#.*)$")
_SKIPPED = re.compile(r"^[ \t]*(?:#.*)?$|^---(?:[ \t].*)?$|^\.\.\.[ \t]*$")
_FIELD_PART = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")
_RULE_ID = re.compile(r"[A-Z][A-Z0-9]*[0-9]{3}")
_CONTAINER = re.compile(r"(initContainers|containers|ephemeralContainers)\[([0-9]+)\]")


@dataclass
class ManifestSuppressions(Tracked):
    file_ids: Entries = field(default_factory=dict)
    before: dict[int, Entries] = field(default_factory=dict)  # first content line after a pragma block -> entries
    problems: list[tuple[int, str]] = field(default_factory=list)
    # id(metadata Map) -> container name or "" (the whole pod) -> rule -> entries
    annotations: dict[int, dict[str, Entries]] = field(default_factory=dict)
    # id(pod) -> (container group, index) -> name, built once per pod
    _names: dict[int, dict[tuple[str, int], str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.file_ids or self.before or any(self.annotations.values()))

    def lookup(
        self, rule: str, pod: Pod, container: str | None, at: Location, key: str | None = None
    ) -> tuple[bool, str | None]:
        """``key``: the hit's key (a capability, an env var), which ``ignore=RULE:KEY`` names."""
        if self.empty:
            return False, None
        reason = self.match(self.file_ids, rule, key)
        if reason is not None:
            return True, reason
        if container is None:
            names = self._names.get(id(pod))
            if names is None:
                names = self._names[id(pod)] = {(c.group, c.index): c.name for c in pod.containers}
            container = _container_of(pod, at.field, names)
        for meta in (pod.template.obj.get("metadata"), pod.template.metadata):
            if not isinstance(meta, Map):
                continue
            by_container = self.annotations.get(id(meta), {})
            for scope in ("", container) if container else ("",):
                reason = self.match(by_container.get(scope or "", {}), rule, None)
                if reason is not None:
                    return True, reason
        if self.before:
            for line in _ancestor_lines(pod, at):
                reason = self.match(self.before.get(line, {}), rule, key)
                if reason is not None:
                    return True, reason
        return False, None


def _container_of(pod: Pod, field_path: str | None, names: dict[tuple[str, int], str]) -> str | None:
    if not field_path:
        return None
    annotation = field_path.rpartition("annotations[")[2]
    for prefix in (APPARMOR_PREFIX, SECCOMP_PREFIX):
        if annotation.startswith(prefix):  # a per-container annotation is about that container
            return annotation[len(prefix) :].rstrip("]")
    spec_prefix = pod.template.spec_path + "."
    if not field_path.startswith(spec_prefix):
        return None
    match = _CONTAINER.match(field_path, len(spec_prefix))
    if match is None:
        return None
    return names.get((match.group(1), int(match.group(2))))


def _ancestor_lines(pod: Pod, at: Location) -> list[int]:
    """The first line of the object and of every node on the way to ``at``'s field, and ``at`` itself."""
    obj = pod.template.obj
    lines = [obj.span[0], at.line]
    path = at.field or ""
    prefix = pod.template.obj_path
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :].lstrip(".")
    node: Any = obj
    for match in _FIELD_PART.finditer(path):
        key = match.group(1) if match.group(1) is not None else match.group(2)
        if isinstance(node, Map) and key in node:
            lines.append(node.at[key][0])
            node = node[key]
        elif isinstance(node, Seq) and key.isdigit() and int(key) < len(node):
            lines.append(node.at[int(key)][0])
            node = node[int(key)]
        else:
            break
    return lines


def manifest_suppressions(
    text: str, loaded: Loaded, known_rules: Collection[str], aliases: Mapping[str, Sequence[str]] | None = None
) -> ManifestSuppressions:
    out = ManifestSuppressions()
    if "secpolicy" in text or "checkov" in text:
        _comments(text, loaded, known_rules, out)
        for pod in loaded.pods:
            names = {c.name for c in pod.containers}
            for meta in (pod.template.obj.get("metadata"), pod.template.metadata):
                if isinstance(meta, Map) and id(meta) not in out.annotations:
                    found = out.annotations[id(meta)] = _annotations(meta, known_rules, out, aliases or {})
                    _unknown_containers(meta, names, out.problems)
                    for container in [c for c in found if c and c not in names]:
                        for entries in found.pop(container).values():  # reported as naming no container
                            for entry in entries:
                                out.origins.pop(id(entry), None)
    return out


def _comments(text: str, loaded: Loaded, known_rules: Collection[str], out: ManifestSuppressions) -> None:
    lines = text.split("\n")
    blocks = sorted(loaded.stream.block_lines) if loaded.stream is not None else []
    starts = [b[0] for b in blocks]
    # the end of every multi-line scalar that starts before a line, up to that line (blocks may nest in starts)
    running_end: list[int] = []
    high = 0
    for _, end in blocks:
        high = max(high, end)
        running_end.append(high)

    def inside_scalar(number: int) -> bool:
        i = bisect.bisect_left(starts, number) - 1
        return i >= 0 and running_end[i] >= number

    pending: Entries = {}
    for number, raw in enumerate(lines, start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if "secpolicy" in line:
            match = _COMMENT.match(line)
            if match is not None and not inside_scalar(number):
                entry = pragma(number, match.group(1), known_rules, out.problems)
                if entry is not None:
                    key_word, items, reason = entry
                    target = out.file_ids if key_word == "ignore-file" else pending
                    for rule, key in items:
                        out.add(target, rule, key, reason, number)
                    continue
        if pending and not (_SKIPPED.match(line) and not inside_scalar(number)):
            out.before.setdefault(number, {}).update(pending)
            pending = {}


def _unknown_containers(meta: Map, names: set[str], problems: list[tuple[int, str]]) -> None:
    annotations = meta.get("annotations")
    if not isinstance(annotations, Map):
        return
    for key in annotations:
        if key.startswith(ANNOTATION + ".") and key[len(ANNOTATION) + 1 :] not in names:
            container = key[len(ANNOTATION) + 1 :]
            known = ", ".join(sorted(names)) or "none"
            problems.append(
                (
                    annotations.at[key][0],
                    f"annotation {key} names no container of this pod ({container!r}; it has: {known})",
                )
            )


def _annotations(
    meta: Map, known_rules: Collection[str], out: ManifestSuppressions, aliases: Mapping[str, Sequence[str]]
) -> dict[str, Entries]:
    problems = out.problems
    found: dict[str, Entries] = {}
    annotations = meta.get("annotations")
    if not isinstance(annotations, Map):
        return found
    for key, value in annotations.items():
        if key.startswith(CHECKOV_ANNOTATION) and isinstance(value, str):
            # checkov.io/skip1: CKV_K8S_20=reason
            check, _, reason = value.partition("=")
            for rule in aliases.get(f"checkov:{check.strip()}", ()):
                out.add(
                    found.setdefault("", {}),
                    rule,
                    None,
                    reason.strip() or f"checkov skip {check.strip()}",
                    annotations.at[key][0],
                )
            continue
        if key != ANNOTATION and not key.startswith(ANNOTATION + "."):
            continue
        container = key[len(ANNOTATION) + 1 :] if key != ANNOTATION else ""
        line = annotations.at[key][0]
        if not isinstance(value, str):
            problems.append((line, f'annotation {key} must be a string like "K8S203: reason"'))
            continue
        rules = found.setdefault(container, {})
        for entry in filter(None, (e.strip() for e in re.split(r"[;\n]", value))):
            ids, colon, reason = entry.partition(":")
            reason = reason.strip()
            names = [n for n in re.split(r"[ \t,]+", ids.strip()) if n]
            if not colon or not reason:
                problems.append(
                    (
                        line,
                        f'annotation {key}: {entry!r} has no reason: write it as "{ids.strip()}: why it is accepted"',
                    )
                )
                continue
            if not names:
                problems.append((line, f"annotation {key}: {entry!r} names no rule"))
                continue
            for name in names:
                if not _RULE_ID.fullmatch(name) or name not in known_rules:
                    problems.append((line, f"annotation {key} names unknown rule {name!r}"))
                    continue
                out.add(rules, name, None, reason, line)
    return found
