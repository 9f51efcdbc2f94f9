"""``secpolicy.yaml``: found by walking up from the linted path, or ``--config``.

This loader knows the image map; the other keys of the full policy file are
added as the features that use them land.  Errors name the file, the key path
and the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secpolicy.images.sources import SourceSpec, parse_spec
from secpolicy.kube.workloads import WorkloadKind, group_of
from secpolicy.reference import ImageRef, InvalidReference, parse
from secpolicy.resolve.capabilities import RUNTIME_DEFAULTS

CONFIG_NAMES = ("secpolicy.yaml", ".secpolicy.yaml")
_IMAGE_KEYS = {"dockerfile", "target", "user"}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ImageEntry:
    ref: ImageRef
    dockerfile: Path | None
    target: str | None
    user: str | None
    line: int


@dataclass
class Config:
    path: Path | None = None
    images: list[ImageEntry] = field(default_factory=list)
    workloads: list[WorkloadKind] = field(default_factory=list)  # CRDs that carry a pod template
    runtime: str = "containerd"  # whose default capability set containers start with (runtime-defaults)
    contexts: dict[Path, Path] = field(default_factory=dict)  # Dockerfile -> its build context (resolved paths)
    image_sources: list[SourceSpec] = field(default_factory=list)  # image-sources: (empty: builtin)
    insecure_registries: list[str] = field(default_factory=list)  # plain HTTP to these registries
    platform: str | None = None  # the platform an image index is resolved to

    def context_of(self, dockerfile: Path) -> Path | None:
        try:
            return self.contexts.get(dockerfile.resolve())
        except (OSError, RuntimeError):
            return None

    def image(self, ref: ImageRef) -> ImageEntry | None:
        """Exact reference first; a key without tag or digest matches every tag."""
        for entry in self.images:
            if entry.ref == ref:
                return entry
        for entry in self.images:
            if entry.ref.tag is None and entry.ref.digest is None and entry.ref.repository == ref.repository:
                return entry
        return None


def discover(start: Path) -> Path | None:
    try:
        here = start.resolve()
    except (OSError, RuntimeError):  # a symlink loop: search from where the link itself is
        here = start.absolute().parent
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def load(path: Path) -> Config:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    config = Config(path=path)
    if root is None:
        return config

    def fail(node: Any, key: str, why: str) -> ConfigError:
        return ConfigError(f"{path}:{node.start_mark.line + 1}: {key}: {why}")

    if not isinstance(root, yaml.MappingNode):
        raise fail(root, "(top level)", "must be a mapping")
    for key_node, value_node in root.value:
        key = _key_text(text, key_node)
        if key == "workloads":
            config.workloads = _workloads(value_node, fail)
            continue
        if key == "contexts":
            config.contexts = _contexts(path, value_node, fail)
            continue
        if key == "runtime-defaults":
            if not isinstance(value_node, yaml.ScalarNode) or value_node.value not in RUNTIME_DEFAULTS:
                raise fail(value_node, key, f"must be one of {', '.join(sorted(RUNTIME_DEFAULTS))}")
            config.runtime = str(value_node.value)
            continue
        if key in ("image-sources", "insecure-registries"):
            items = _strings(value_node, key, fail)
            if key == "insecure-registries":
                config.insecure_registries = items
                continue
            try:
                config.image_sources = [parse_spec(item, path.parent) for item in items]
            except ValueError as exc:
                raise fail(value_node, key, str(exc)) from None
            continue
        if key == "platform":
            if not isinstance(value_node, yaml.ScalarNode) or not str(value_node.value):
                raise fail(value_node, key, "must be os/arch[/variant], e.g. linux/arm64")
            from secpolicy.images.registry import Platform

            try:
                Platform.parse(str(value_node.value))
            except ValueError as exc:
                raise fail(value_node, key, str(exc)) from None
            config.platform = str(value_node.value)
            continue
        if key != "images":
            known = "contexts, image-sources, images, insecure-registries, platform, runtime-defaults, workloads"
            raise fail(key_node, key, f"unknown key (this version knows: {known})")
        if not isinstance(value_node, yaml.MappingNode):
            raise fail(value_node, "images", "must be a mapping of image reference to {dockerfile, target} or {user}")
        seen: dict[ImageRef, tuple[str, int]] = {}
        for ref_node, entry_node in value_node.value:
            entry = _image_entry(path, text, ref_node, entry_node, fail)
            name = _key_text(text, ref_node)
            if entry.ref in seen:
                other, line = seen[entry.ref]
                same = "" if other == name else f" ({other} is the same image)"
                raise fail(ref_node, f"images.{name}", f"duplicate image: already given on line {line}{same}")
            seen[entry.ref] = (name, entry.line)
            config.images.append(entry)
    return config


_WORKLOAD_KEYS = {"kind", "apiVersion", "path"}
_DOTTED = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def _workloads(node: Any, fail: Any) -> list[WorkloadKind]:
    """``workloads: [{kind: Knative, apiVersion: serving.knative.dev/v1, path: spec.template}]``."""
    import yaml

    if not isinstance(node, yaml.SequenceNode):
        raise fail(node, "workloads", "must be a list of {kind, path} (and optionally apiVersion)")
    out = []
    for index, item in enumerate(node.value):
        where = f"workloads[{index}]"
        if not isinstance(item, yaml.MappingNode):
            raise fail(item, where, "must be a mapping with kind and path")
        values: dict[str, str] = {}
        for k, v in item.value:
            if k.value not in _WORKLOAD_KEYS:
                raise fail(k, f"{where}.{k.value}", f"unknown key (use one of {sorted(_WORKLOAD_KEYS)})")
            if not isinstance(v, yaml.ScalarNode) or not str(v.value):
                raise fail(v, f"{where}.{k.value}", "must be a non-empty string")
            values[k.value] = str(v.value)
        if "kind" not in values or "path" not in values:
            raise fail(item, where, "needs kind and path (the dotted path of the pod template, e.g. spec.template)")
        if not _DOTTED.fullmatch(values["path"]):
            raise fail(item, f"{where}.path", f"{values['path']!r} is not a dotted field path like spec.template")
        api = values.get("apiVersion")
        groups = frozenset({_group(api)}) if api else frozenset()
        out.append(WorkloadKind(values["kind"], groups, values["path"]))
    return out


def _strings(node: Any, key: str, fail: Any) -> list[str]:
    import yaml

    if not isinstance(node, yaml.SequenceNode) or not all(
        isinstance(item, yaml.ScalarNode) and str(item.value) for item in node.value
    ):
        raise fail(node, key, "must be a list of strings")
    return [str(item.value) for item in node.value]


def _contexts(path: Path, node: Any, fail: Any) -> dict[Path, Path]:
    """``contexts: {services/api/Dockerfile: .}``: the build context of a Dockerfile, both relative to this file."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise fail(node, "contexts", "must be a mapping of Dockerfile path to context directory")
    out: dict[Path, Path] = {}
    for key, value in node.value:
        where = f"contexts.{key.value}"
        if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode) or not str(value.value):
            raise fail(key, where, "Dockerfile and context must be non-empty strings")
        dockerfile = path.parent / str(key.value)
        context = path.parent / str(value.value)
        if not dockerfile.is_file():
            raise fail(key, where, f"{key.value} does not exist (relative to {path.parent})")
        if not context.is_dir():
            raise fail(value, where, f"{value.value} is not a directory (relative to {path.parent})")
        out[dockerfile.resolve()] = context
    return out


def _group(api_version: str) -> str:
    """``apps/v1`` -> apps, ``v1`` -> "" (core), ``argoproj.io`` (a group alone) -> itself."""
    if "/" in api_version:
        return group_of(api_version)
    return "" if re.fullmatch(r"v[0-9]+(?:(?:alpha|beta)[0-9]+)?", api_version) else api_version


def _key_text(text: str, node: Any) -> str:
    """A mapping key as the file spells it (a complex key is shown as its source text, not a repr)."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    source = text[node.start_mark.index : node.end_mark.index]
    return " ".join(source.split())[:80]


# USER's form: user[:group], neither part empty, no white space
_USER_SPEC = re.compile(r"[^\s:]+(?::[^\s:]+)?")


def _image_entry(path: Path, text: str, ref_node: Any, entry_node: Any, fail: Any) -> ImageEntry:
    import yaml

    name = f"images.{_key_text(text, ref_node)}"
    if not isinstance(ref_node, yaml.ScalarNode):
        raise fail(ref_node, name, "an image reference must be a string")
    try:
        ref = parse(str(ref_node.value))
    except InvalidReference as exc:
        raise fail(ref_node, name, f"not an image reference: {exc}") from None
    if not isinstance(entry_node, yaml.MappingNode):
        raise fail(entry_node, name, "must be a mapping with 'dockerfile' (and 'target') or 'user'")
    values: dict[str, str] = {}
    for k, v in entry_node.value:
        if k.value not in _IMAGE_KEYS:
            raise fail(k, f"{name}.{k.value}", f"unknown key (use one of {sorted(_IMAGE_KEYS)})")
        if not isinstance(v, yaml.ScalarNode) or v.value == "":
            raise fail(v, f"{name}.{k.value}", "must be a non-empty string")
        values[k.value] = str(v.value)
    if ("dockerfile" in values) == ("user" in values):
        raise fail(entry_node, name, "give exactly one of 'dockerfile' or 'user'")
    if "target" in values and "dockerfile" not in values:
        raise fail(entry_node, name, "'target' needs 'dockerfile'")
    if "user" in values and not _USER_SPEC.fullmatch(values["user"]):
        raise fail(
            entry_node, f"{name}.user", f'{values["user"]!r} is not user[:group] (e.g. "10001" or "10001:10001")'
        )
    dockerfile = (path.parent / values["dockerfile"]) if "dockerfile" in values else None
    if dockerfile is not None and not dockerfile.is_file():
        raise fail(
            entry_node, f"{name}.dockerfile", f"{values['dockerfile']} does not exist (relative to {path.parent})"
        )
    return ImageEntry(ref, dockerfile, values.get("target"), values.get("user"), ref_node.start_mark.line + 1)
