"""``secpolicy.yaml``: found by walking up from the linted path, or ``--config``.

This loader knows the image map; the other keys of the full policy file are
added as the features that use them land.  Errors name the file, the key path
and the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secpolicy.resolve.images import ImageRef, parse_ref

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
        key = key_node.value
        if key != "images":
            raise fail(key_node, key, "unknown key (this version knows: images)")
        if not isinstance(value_node, yaml.MappingNode):
            raise fail(value_node, "images", "must be a mapping of image reference to {dockerfile, target} or {user}")
        for ref_node, entry_node in value_node.value:
            config.images.append(_image_entry(path, ref_node, entry_node, fail))
    return config


def _image_entry(path: Path, ref_node: Any, entry_node: Any, fail: Any) -> ImageEntry:
    import yaml

    name = f"images.{ref_node.value}"
    ref = parse_ref(str(ref_node.value))
    if ref is None:
        raise fail(ref_node, name, "is not an image reference")
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
    dockerfile = (path.parent / values["dockerfile"]) if "dockerfile" in values else None
    return ImageEntry(ref, dockerfile, values.get("target"), values.get("user"), ref_node.start_mark.line + 1)
