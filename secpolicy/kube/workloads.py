"""Which objects carry a pod template, and where (PSA's ``DefaultPodSpecExtractor``, plus CRDs).

A manifest document is a Kubernetes object when it is a mapping with string
``apiVersion`` and ``kind``; anything else (CI workflows, Helm values,
compose files) is not ours and is skipped quietly.  ``kind: List`` holds
objects in ``items``.  Objects of other kinds (Services, ConfigMaps, …) carry
no pod and are skipped too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from secpolicy.kube.nodes import Map, Seq


@dataclass(frozen=True)
class WorkloadKind:
    """Objects of ``kind`` in one of ``groups`` keep their pod template at ``path`` (dotted; "" = the object)."""

    kind: str
    groups: frozenset[str]
    path: str


def _kind(kind: str, groups: Sequence[str], path: str) -> WorkloadKind:
    return WorkloadKind(kind, frozenset(groups), path)


_APPS = ("apps", "extensions")  # extensions/v1beta1 served Deployment, DaemonSet and ReplicaSet until 1.16
BUILTIN: tuple[WorkloadKind, ...] = (
    _kind("Pod", ("",), ""),
    _kind("PodTemplate", ("",), "template"),
    _kind("ReplicationController", ("",), "spec.template"),
    _kind("ReplicaSet", _APPS, "spec.template"),
    _kind("Deployment", _APPS, "spec.template"),
    _kind("DaemonSet", _APPS, "spec.template"),
    _kind("StatefulSet", ("apps",), "spec.template"),
    _kind("Job", ("batch",), "spec.template"),
    _kind("CronJob", ("batch",), "spec.jobTemplate.spec.template"),
    _kind("Rollout", ("argoproj.io",), "spec.template"),  # Argo Rollouts; a workloadRef Rollout has none
    _kind("DeploymentConfig", ("apps.openshift.io", ""), "spec.template"),
)


@dataclass(frozen=True)
class PodTemplate:
    """A pod's metadata and spec inside an object, with the field paths that lead to them."""

    kind: str
    name: str
    namespace: str | None
    obj: Map
    obj_path: str  # "" for a document, "items[2]" inside a List
    metadata: Any  # the pod's (template's) metadata: a Map when well-formed
    spec: Any  # a Map when well-formed; the decoder reports anything else
    spec_path: str  # e.g. "spec.template.spec"
    holder: Map  # the mapping that holds ``spec`` (the template, or the object for a Pod)
    holder_path: str

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}" if self.name else self.kind


def join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


@dataclass(frozen=True)
class Malformed:
    """Part of an object the API server would reject, so the pod in it cannot be judged."""

    line: int
    column: int
    field: str
    message: str


def describe(value: Any) -> str:
    """What a YAML value is, for messages: a list, a mapping or a scalar."""
    return "a list" if isinstance(value, Seq) else "a mapping" if isinstance(value, Map) else "a scalar"


def objects(document: Any) -> Iterator[tuple[Map, str] | Malformed]:
    """The Kubernetes objects in a document: itself, or the items of a List."""
    if not isinstance(document, Map) or not _is_object(document):
        return
    kind = document["kind"]
    if kind == "List" or (kind.endswith("List") and "items" in document):
        items = document.get("items")
        if items is None:
            return
        if not isinstance(items, Seq):
            at = document.at["items"]
            yield Malformed(at[0], at[1], "items", f"{kind} items must be a list, not {describe(items)}")
            return
        for index, item in enumerate(items):
            if isinstance(item, Map) and _is_object(item):
                yield item, f"items[{index}]"
            else:
                at = items.at[index]
                what = "a mapping without string apiVersion and kind" if isinstance(item, Map) else describe(item)
                if item is None:
                    what = "null"
                yield Malformed(at[0], at[1], f"items[{index}]", f"{kind} items[{index}] is {what}, not an object")
        return
    yield document, ""


def _is_object(value: Map) -> bool:
    return isinstance(value.get("apiVersion"), str) and isinstance(value.get("kind"), str)


# kinds whose pod template may be absent: ReplicationController's is a pointer PSA skips when nil,
# a Rollout may point at a Deployment instead (workloadRef)
_OPTIONAL_TEMPLATE = frozenset({"ReplicationController", "Rollout"})


def templates(obj: Map, obj_path: str, extra: Sequence[WorkloadKind] = ()) -> Iterator[PodTemplate | Malformed]:
    """The pod template of ``obj``, if its kind has one (config entries before the built-in table)."""
    kind = obj["kind"]
    group = group_of(obj["apiVersion"])
    for entry in (*extra, *BUILTIN):
        if entry.kind != kind or (entry.groups and group not in entry.groups):
            continue
        optional = kind in _OPTIONAL_TEMPLATE or entry in extra
        holder: Any = obj
        field = obj_path
        parts = [*(entry.path.split(".") if entry.path else ()), "spec"]
        for position, part in enumerate(parts):
            last = position == len(parts) - 1
            value = holder.get(part)
            if value is None:
                if optional and (not last or holder is not obj):
                    return  # no template here (e.g. an Argo Rollout with workloadRef): nothing to judge
                span = holder.span
                where = join(field, part)
                yield Malformed(span[0], span[1], where, f"{kind} has no {where}: the API server would reject it")
                return
            field = join(field, part)
            if last:
                break  # the pod spec itself: the decoder checks its type
            if not isinstance(value, Map):
                span = holder.at[part]
                yield Malformed(span[0], span[1], field, f"{field} must be a mapping, not {describe(value)}")
                return
            holder = value
        spec = holder["spec"]
        metadata = obj.get("metadata")
        name = metadata.get("name") if isinstance(metadata, Map) else None
        namespace = metadata.get("namespace") if isinstance(metadata, Map) else None
        pod_meta = holder.get("metadata")
        holder_path = join(obj_path, entry.path)
        yield PodTemplate(
            kind=kind,
            name=name if isinstance(name, str) else "",
            namespace=namespace if isinstance(namespace, str) else None,
            obj=obj,
            obj_path=obj_path,
            metadata=pod_meta,
            spec=spec,
            spec_path=join(holder_path, "spec"),
            holder=holder,
            holder_path=holder_path,
        )
        return
