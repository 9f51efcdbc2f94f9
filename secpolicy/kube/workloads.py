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


def objects(document: Any) -> Iterator[tuple[Map, str]]:
    """The Kubernetes objects in a document: itself, or the items of a List."""
    if not isinstance(document, Map) or not _is_object(document):
        return
    if document["kind"] == "List" or (document["kind"].endswith("List") and isinstance(document.get("items"), Seq)):
        items = document.get("items")
        if isinstance(items, Seq):
            for index, item in enumerate(items):
                if isinstance(item, Map) and _is_object(item):
                    yield item, f"items[{index}]"
        return
    yield document, ""


def _is_object(value: Map) -> bool:
    return isinstance(value.get("apiVersion"), str) and isinstance(value.get("kind"), str)


def templates(obj: Map, obj_path: str, extra: Sequence[WorkloadKind] = ()) -> Iterator[PodTemplate]:
    """The pod template of ``obj``, if its kind has one (config entries before the built-in table)."""
    kind = obj["kind"]
    group = group_of(obj["apiVersion"])
    for entry in (*extra, *BUILTIN):
        if entry.kind != kind or (entry.groups and group not in entry.groups):
            continue
        holder: Any = obj
        for part in entry.path.split(".") if entry.path else ():
            holder = holder.get(part) if isinstance(holder, Map) else None
        if not isinstance(holder, Map):
            return  # no template here (e.g. an Argo Rollout with workloadRef): nothing to judge
        spec = holder.get("spec")
        if spec is None:
            return  # a template without a spec: the API server would reject it, and there is no pod to judge
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
