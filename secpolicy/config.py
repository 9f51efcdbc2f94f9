"""The configuration: ``secpolicy.yaml``, ``.secpolicy.yaml`` or ``[tool.secpolicy]`` in ``pyproject.toml``.

Found by walking up from the linted path (the nearest wins), or ``--config``.
The file is checked against the JSON Schema shipped in the package
(``secpolicy/data/config.schema.json``; ``secpolicy config schema`` prints
it) with jsonschema, then each value is checked for what a schema cannot
say (an image reference, a path that must exist, a date).  Every error names
the file, the line and the key path.  A file that passed the schema once is
remembered by its digest in the user's cache, so that a lint does not pay
for importing jsonschema every time.
"""

from __future__ import annotations

import datetime
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # loaded where they are used: secpolicy run reads a config without them
    from secpolicy.images.sources import SourceSpec
    from secpolicy.kube.workloads import WorkloadKind
    from secpolicy.reference import ImageRef

CONFIG_NAMES = ("secpolicy.yaml", ".secpolicy.yaml", "pyproject.toml")
MAX_CONFIG = 1024 * 1024
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


@dataclass(frozen=True)
class RuleSetting:
    """``rules: {DF101: {enabled: false, severity: warning, params: {...}}}``."""

    rule: str
    enabled: bool | None = None
    severity: str | None = None
    params: Mapping[str, Any] | None = None
    line: int = 0


@dataclass(frozen=True)
class Exception_:
    """An accepted finding: rules, path globs (relative to the config's directory), object name/namespace."""

    rules: tuple[str, ...]
    reason: str
    paths: tuple[str, ...] = ()
    name: str | None = None
    namespace: str | None = None
    expires: datetime.date | None = None
    line: int = 0

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires


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
    profile: str | None = None
    fail_on: str | None = None
    pss_version: str | None = None
    rules: dict[str, RuleSetting] = field(default_factory=dict)
    rule_dirs: list[Path] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    exceptions: list[Exception_] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)  # secpolicy run's policy

    @property
    def directory(self) -> Path:
        return self.path.parent if self.path is not None else Path.cwd()

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

    def where(self, line: int) -> str:
        """``file:line`` of a setting (relative to the current directory when below it), as messages name it."""
        if self.path is None:
            return "(no config file)"
        from secpolicy.sources import display

        return f"{display(self.path, Path.cwd())}:{line}"


def discover(start: Path) -> Path | None:
    """The nearest config above ``start``: secpolicy.yaml, .secpolicy.yaml, or a pyproject.toml with [tool.secpolicy]."""
    try:
        here = start.resolve()
    except (OSError, RuntimeError):  # a symlink loop: search from where the link itself is
        here = start.absolute().parent
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        found = config_in(directory)
        if found is not None:
            return found
    return None


def config_in(directory: Path) -> Path | None:
    """The config file of this directory itself, if it has one."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
            return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(MAX_CONFIG)
    except OSError:
        return False
    return re.search(rb"^\s*\[tool\.secpolicy[\].]", head, re.MULTILINE) is not None


Lines = dict[tuple[str | int, ...], int]


def load(path: Path) -> Config:
    if path.name == "pyproject.toml":
        data, lines = _read_pyproject(path)
    else:
        data, lines = _read_yaml(path)
    config = Config(path=path)
    if data is None:
        return config
    _check_schema(path, data, lines)
    _build(config, data, lines)
    return config


def _fail(path: Path, lines: Lines, where: tuple[str | int, ...], why: str) -> ConfigError:
    line = lines.get(where)
    probe = where
    while line is None and probe:
        probe = probe[:-1]
        line = lines.get(probe)
    return ConfigError(f"{path}:{line or 1}: {_key_path(where) or '(top level)'}: {why}")


def _key_path(where: Sequence[str | int]) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _read_bytes(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_CONFIG:
            raise ConfigError(f"{path}: larger than {MAX_CONFIG} bytes: not read")
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None


def _read_yaml(path: Path) -> tuple[Any, Lines]:
    import yaml

    text = _read_bytes(path)
    try:
        loader = yaml.SafeLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if root is None:
        return None, {}
    lines: Lines = {}

    def convert(node: Any, where: tuple[str | int, ...], depth: int) -> Any:
        lines[where] = node.start_mark.line + 1
        if depth > 64:
            raise _fail(path, lines, where, "nested too deeply")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    shown = " ".join(text[key_node.start_mark.index : key_node.end_mark.index].split())[:80]
                    what = "an image reference" if where == ("images",) else "a key"
                    lines[(*where, shown)] = key_node.start_mark.line + 1
                    raise _fail(path, lines, (*where, shown), f"{what} must be a string")
                key = str(key_node.value)
                if key in seen:
                    lines[(*where, key)] = key_node.start_mark.line + 1
                    what = "duplicate image" if where == ("images",) else "duplicate key"
                    raise _fail(path, lines, (*where, key), f"{what}: already given on line {seen[key]}")
                seen[key] = key_node.start_mark.line + 1
                out[key] = convert(value_node, (*where, key), depth + 1)
                lines[(*where, key)] = key_node.start_mark.line + 1
            return out
        if isinstance(node, yaml.SequenceNode):
            return [convert(item, (*where, i), depth + 1) for i, item in enumerate(node.value)]
        value = yaml.SafeLoader("").construct_scalar(node) if node.tag.endswith(":str") else _scalar(node)
        return value

    return convert(root, (), 0), lines


def _scalar(node: Any) -> Any:
    import yaml

    loader = yaml.SafeLoader("")
    try:
        value = loader.construct_object(node)
    except ValueError:  # a timestamp-looking value that is no date (2026-02-30): the text, for the checks to name
        return str(node.value)
    finally:
        loader.dispose()
    if isinstance(value, datetime.date):
        return value.isoformat()[:10]  # an unquoted expiry date: kept as the text the schema checks
    return value


def _read_pyproject(path: Path) -> tuple[Any, Lines]:
    import tomllib

    text = _read_bytes(path)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    data = doc.get("tool", {}).get("secpolicy")
    if data is None:
        return None, {}
    data = _dates_to_text(data)
    # TOML keeps no positions: a key's line is where its name first appears below [tool.secpolicy]
    start = re.search(r"^\s*\[tool\.secpolicy[\].]", text, re.MULTILINE)
    offset = text.count("\n", 0, start.start()) if start else 0
    body = text.splitlines()[offset:]
    lines: Lines = {(): offset + 1}

    def walk(value: Any, where: tuple[str | int, ...]) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                pattern = re.compile(rf"(^|[\s.\[\"']){re.escape(key)}([\s.\]\"'=]|$)")
                found = next((i for i, line in enumerate(body) if pattern.search(line)), None)
                lines[(*where, key)] = offset + 1 + found if found is not None else lines.get(where, offset + 1)
                walk(item, (*where, key))
        elif isinstance(value, list):
            for i, item in enumerate(value):
                lines[(*where, i)] = lines.get(where, offset + 1)
                walk(item, (*where, i))

    walk(data, ())
    return data, lines


def _dates_to_text(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()[:10]
    return value


def schema() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        (Path(__file__).resolve().parent / "data" / "config.schema.json").read_text("utf-8")
    )
    return doc


def _check_schema(path: Path, data: Any, lines: Lines) -> None:
    import hashlib

    digest = hashlib.sha256(json.dumps([_SCHEMA_VERSION, data], sort_keys=True, default=str).encode()).hexdigest()
    marker = _validated_dir() / digest
    if marker.exists():
        return
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if errors:
        error = min(errors, key=lambda e: lines.get(tuple(e.absolute_path), 0))
        where, why = _explain(error)
        raise _fail(path, lines, where, why)
    try:
        marker.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        marker.write_bytes(b"")
    except OSError:
        pass  # checked again next time


_SCHEMA_VERSION = 2  # bump with any change to config.schema.json


def _validated_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secpolicy" / "config-ok"


_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "integer": "a whole number",
    "number": "a number",
}


def _explain(error: Any) -> tuple[tuple[str | int, ...], str]:
    """A jsonschema error as the key it is about and a sentence."""
    where = tuple(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        known = f" (this version knows: {', '.join(allowed)})" if allowed else ""
        return (*where, extra[0]), f"unknown key{known}"
    if kind == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return where, "must be " + " or ".join(_TYPES.get(str(t), str(t)) for t in wanted)
    if kind == "enum":
        return where, f"must be one of {', '.join(map(str, error.validator_value))}"
    if kind == "required":
        return where, error.message.replace("'", "").replace(" is a required property", ": required")
    if "propertyNames" in error.schema_path:
        return (*where, str(error.instance)), "is not a rule id like DF101"
    if kind == "pattern":
        return where, f"{error.instance!r} is not of the form {error.validator_value}"
    if kind in ("minLength", "minItems", "minProperties"):
        return where, "must not be empty"
    return where, error.message


def _build(config: Config, data: dict[str, Any], lines: Lines) -> None:
    from secpolicy.images.sources import parse_spec
    from secpolicy.kube.workloads import WorkloadKind

    path = config.path
    assert path is not None  # noqa: S101 - load() sets it
    fail: Callable[[tuple[str | int, ...], str], ConfigError] = lambda where, why: _fail(path, lines, where, why)  # noqa: E731
    base = path.parent
    config.profile = data.get("profile")
    config.fail_on = data.get("fail-on")
    config.pss_version = data.get("pss-version")
    config.runtime = data.get("runtime-defaults", config.runtime)
    config.insecure_registries = list(data.get("insecure-registries", []))
    config.exclude = list(data.get("exclude", []))
    config.run = dict(data.get("run", {}))
    if "platform" in data:
        from secpolicy.images.platform import Platform

        try:
            Platform.parse(data["platform"])
        except ValueError as exc:
            raise fail(("platform",), str(exc)) from None
        config.platform = data["platform"]
    for i, text in enumerate(data.get("image-sources", [])):
        try:
            config.image_sources.append(parse_spec(text, base))
        except ValueError as exc:
            raise fail(("image-sources", i), str(exc)) from None
    for i, text in enumerate(data.get("rule-dirs", [])):
        directory = base / text
        if not directory.is_dir():
            raise fail(("rule-dirs", i), f"{text} is not a directory (relative to {base})")
        config.rule_dirs.append(directory)
    for rule, setting in data.get("rules", {}).items():
        config.rules[rule] = RuleSetting(
            rule, setting.get("enabled"), setting.get("severity"), setting.get("params"), lines.get(("rules", rule), 0)
        )
    for i, item in enumerate(data.get("exceptions", [])):
        expires = None
        if "expires" in item:
            try:
                expires = datetime.date.fromisoformat(item["expires"])
            except ValueError:
                raise fail(("exceptions", i, "expires"), f"{item['expires']!r} is not a date (YYYY-MM-DD)") from None
        config.exceptions.append(
            Exception_(
                tuple(item["rules"]),
                item["reason"],
                tuple(item.get("paths", [])),
                item.get("name"),
                item.get("namespace"),
                expires,
                lines.get(("exceptions", i), 0),
            )
        )
    for i, item in enumerate(data.get("workloads", [])):
        where = ("workloads", i)
        if not _DOTTED.fullmatch(item["path"]):
            raise fail((*where, "path"), f"{item['path']!r} is not a dotted field path like spec.template")
        api = item.get("apiVersion")
        groups = frozenset({_group(api)}) if api else frozenset()
        config.workloads.append(WorkloadKind(item["kind"], groups, item["path"]))
    for key, value in data.get("contexts", {}).items():
        where = ("contexts", key)
        dockerfile, context = base / key, base / value
        if not dockerfile.is_file():
            raise fail(where, f"{key} does not exist (relative to {base})")
        if not context.is_dir():
            raise fail(where, f"{value} is not a directory (relative to {base})")
        config.contexts[dockerfile.resolve()] = context
    seen: dict[ImageRef, tuple[str, int]] = {}
    for name, values in data.get("images", {}).items():
        entry = _image_entry(base, name, values, lines, fail)
        if entry.ref in seen:
            other, line = seen[entry.ref]
            same = "" if other == name else f" ({other} is the same image)"
            raise fail(("images", name), f"duplicate image: already given on line {line}{same}")
        seen[entry.ref] = (name, entry.line)
        config.images.append(entry)


_DOTTED = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")


def _group(api_version: str) -> str:
    """``apps/v1`` -> apps, ``v1`` -> "" (core), ``argoproj.io`` (a group alone) -> itself."""
    if "/" in api_version:
        from secpolicy.kube.workloads import group_of

        return group_of(api_version)
    return "" if re.fullmatch(r"v[0-9]+(?:(?:alpha|beta)[0-9]+)?", api_version) else api_version


# USER's form: user[:group], neither part empty, no white space
_USER_SPEC = re.compile(r"[^\s:]+(?::[^\s:]+)?")


def _image_entry(
    base: Path,
    name: str,
    values: Mapping[str, str],
    lines: Lines,
    fail: Callable[[tuple[str | int, ...], str], ConfigError],
) -> ImageEntry:
    from secpolicy.reference import InvalidReference, parse

    where = ("images", name)
    try:
        ref = parse(name)
    except InvalidReference as exc:
        raise fail(where, f"not an image reference: {exc}") from None
    if ("dockerfile" in values) == ("user" in values):
        raise fail(where, "give exactly one of 'dockerfile' or 'user'")
    if "target" in values and "dockerfile" not in values:
        raise fail(where, "'target' needs 'dockerfile'")
    if "user" in values and not _USER_SPEC.fullmatch(values["user"]):
        raise fail((*where, "user"), f'{values["user"]!r} is not user[:group] (e.g. "10001" or "10001:10001")')
    dockerfile = (base / values["dockerfile"]) if "dockerfile" in values else None
    if dockerfile is not None and not dockerfile.is_file():
        raise fail((*where, "dockerfile"), f"{values['dockerfile']} does not exist (relative to {base})")
    return ImageEntry(ref, dockerfile, values.get("target"), values.get("user"), lines.get(where, 0))
