"""A pod template decoded into the fields secpolicy judges, each with where it is written.

Decoding follows the API server's JSON decoding: ``null`` is the same as an
absent field, a value of the wrong type is an error (the object would be
rejected, so it is reported instead of judged), unknown fields are ignored.
Two defaults the API server applies before admission are applied here, as
the PSA fixtures assume: a volume with no source is an ``emptyDir``, and a
container with no ``securityContext`` has none (nothing is invented).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from secpolicy.kube.nodes import Map, Seq, Span
from secpolicy.kube.workloads import PodTemplate, join
from secpolicy.model import Location

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

# int32 fields that validation keeps non-negative (runAsUser, runAsGroup, fsGroup, supplementalGroups)
_MAX_ID = 2**31 - 1
CONTAINER_GROUPS = ("initContainers", "containers", "ephemeralContainers")  # PSA's visitContainers order
# the volume sources of core/v1 Volume: first the nine PSA's restrictedVolumes allows, then the others
VOLUME_SOURCES = (
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
)


@dataclass(frozen=True)
class Val(Generic[T_co]):
    value: T_co
    at: Location


@dataclass(frozen=True)
class Profile:
    """seccompProfile / appArmorProfile."""

    at: Location
    type: Val[str] | None


@dataclass(frozen=True)
class SELinux:
    at: Location
    type: str
    user: str
    role: str
    level: str


@dataclass(frozen=True)
class Capabilities:
    at: Location
    add: tuple[Val[str], ...]
    drop: tuple[Val[str], ...]


@dataclass(frozen=True)
class SecurityContext:
    """A pod's or a container's securityContext (each has fields the other lacks; absent ones are None)."""

    at: Location
    run_as_user: Val[int] | None = None
    run_as_group: Val[int] | None = None
    run_as_non_root: Val[bool] | None = None
    seccomp: Profile | None = None
    apparmor: Profile | None = None
    selinux: SELinux | None = None
    host_process: Val[bool] | None = None
    # container only
    privileged: Val[bool] | None = None
    allow_privilege_escalation: Val[bool] | None = None
    read_only_root_filesystem: Val[bool] | None = None
    capabilities: Capabilities | None = None
    proc_mount: Val[str] | None = None
    # pod only
    fs_group: Val[int] | None = None
    supplemental_groups: tuple[Val[int], ...] = ()
    sysctls: tuple[Val[str], ...] = ()  # names


@dataclass(frozen=True)
class EnvVar:
    name: Val[str]
    value: Val[str] | None  # a literal value (valueFrom is not a literal)


@dataclass(frozen=True)
class Container:
    group: str  # initContainers | containers | ephemeralContainers
    index: int
    at: Location
    name: str
    image: Val[str] | None
    security_context: SecurityContext | None
    host_ports: tuple[Val[int], ...]  # every non-zero ports[*].hostPort
    probe_hosts: tuple[Val[str], ...]  # every non-empty host of a probe or lifecycle handler
    env: tuple[EnvVar, ...]

    @property
    def label(self) -> str:
        singular = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}
        return f"{singular.get(self.group, 'container')} {self.name}"

    @property
    def field(self) -> str:
        return self.at.field or ""

    def unset(self, name: str) -> Location:
        """Where to point for ``securityContext.<name>`` when it is not set: the securityContext, else the container."""
        at = self.security_context.at if self.security_context is not None else self.at
        return replace(at, field=f"{self.field}.securityContext.{name}")


@dataclass(frozen=True)
class Volume:
    name: str
    at: Location
    source: str  # the source field set ("emptyDir" when none is: the API server's default)


@dataclass(frozen=True)
class Pod:
    template: PodTemplate
    at: Location  # the pod spec
    annotations: dict[str, Val[str]]
    host_network: Val[bool] | None
    host_pid: Val[bool] | None
    host_ipc: Val[bool] | None
    host_users: Val[bool] | None
    os_name: Val[str] | None
    security_context: SecurityContext | None
    volumes: tuple[Volume, ...]
    containers: tuple[Container, ...]  # init, regular, ephemeral: the order PSA visits them

    @property
    def label(self) -> str:
        return self.template.label

    @property
    def windows(self) -> bool:
        return self.os_name is not None and self.os_name.value == "windows"

    @property
    def user_namespace(self) -> bool:
        """``hostUsers: false``: PSA relaxes runAsNonRoot, runAsUser and procMount (baseline) from v1.35."""
        return self.host_users is not None and self.host_users.value is False


@dataclass(frozen=True)
class DecodeError:
    at: Location
    message: str


class _Reject(Exception):
    pass


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Map):
        return "a mapping"
    if isinstance(value, Seq):
        return "a list"
    return type(value).__name__


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f" ({value[:40]!r})"
    if isinstance(value, bool | int | float):
        return f" ({str(value).lower() if isinstance(value, bool) else value})"
    return ""


class _Decoder:
    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[DecodeError] = []

    def loc(self, span: Span, field: str) -> Location:
        return Location(self.path, span[0], span[1], span[2], span[3], field)

    def fail(self, at: Location, message: str) -> _Reject:
        self.errors.append(DecodeError(at, f"{at.field}: {message}"))
        return _Reject()

    def get(self, m: Map, key: str, base: str) -> tuple[Any, Location] | None:
        """``m[key]`` and where the key is written; None when absent or null."""
        value = m.get(key)
        if value is None:
            return None
        return value, self.loc(m.at[key], join(base, key))

    def typed(self, m: Map, key: str, base: str, kind: type[T], what: str) -> Val[T] | None:
        got = self.get(m, key, base)
        if got is None:
            return None
        value, at = got
        if kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)  # 1000.0 and 1e3 reach the API server as the JSON number 1000
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            raise self.fail(at, f"must be {what}, not {_type_name(value)}{_shown(value)}")
        return Val(value, at)

    def boolean(self, m: Map, key: str, base: str) -> Val[bool] | None:
        return self.typed(m, key, base, bool, "a boolean (true or false)")

    def string(self, m: Map, key: str, base: str) -> Val[str] | None:
        return self.typed(m, key, base, str, "a string")

    def ident(self, m: Map, key: str, base: str) -> Val[int] | None:
        got = self.typed(m, key, base, int, "an integer")
        if got is not None and not 0 <= got.value <= _MAX_ID:
            raise self.fail(got.at, f"must be between 0 and {_MAX_ID} (the API server rejects {got.value})")
        return got

    def mapping(self, m: Map, key: str, base: str) -> tuple[Map, Location] | None:
        got = self.get(m, key, base)
        if got is None:
            return None
        value, at = got
        if not isinstance(value, Map):
            raise self.fail(at, f"must be a mapping, not {_type_name(value)}{_shown(value)}")
        return value, at

    def sequence(self, m: Map, key: str, base: str) -> tuple[Seq, Location] | None:
        got = self.get(m, key, base)
        if got is None:
            return None
        value, at = got
        if not isinstance(value, Seq):
            raise self.fail(at, f"must be a list, not {_type_name(value)}{_shown(value)}")
        return value, at

    def items(self, m: Map, key: str, base: str, each: Callable[[Any, Location], T]) -> tuple[T, ...]:
        got = self.sequence(m, key, base)
        if got is None:
            return ()
        seq, _ = got
        field = join(base, key)
        return tuple(each(item, self.loc(seq.at[i], f"{field}[{i}]")) for i, item in enumerate(seq))

    def item_map(self, value: Any, at: Location) -> Map:
        if not isinstance(value, Map):
            raise self.fail(at, f"must be a mapping, not {_type_name(value)}{_shown(value)}")
        return value

    def item_str(self, value: Any, at: Location) -> Val[str]:
        if not isinstance(value, str):
            raise self.fail(at, f"must be a string, not {_type_name(value)}{_shown(value)}")
        return Val(value, at)

    def item_id(self, value: Any, at: Location) -> Val[int]:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(at, f"must be an integer, not {_type_name(value)}{_shown(value)}")
        if not 0 <= value <= _MAX_ID:
            raise self.fail(at, f"must be between 0 and {_MAX_ID} (the API server rejects {value})")
        return Val(value, at)

    # -- structures ---------------------------------------------------------
    def profile(self, m: Map, key: str, base: str) -> Profile | None:
        got = self.mapping(m, key, base)
        if got is None:
            return None
        value, at = got
        return Profile(at, self.string(value, "type", at.field or ""))

    def selinux(self, m: Map, base: str) -> SELinux | None:
        got = self.mapping(m, "seLinuxOptions", base)
        if got is None:
            return None
        value, at = got
        field = at.field or ""

        def text(key: str) -> str:
            v = self.string(value, key, field)
            return v.value if v else ""

        return SELinux(at, text("type"), text("user"), text("role"), text("level"))

    def capabilities(self, m: Map, base: str) -> Capabilities | None:
        got = self.mapping(m, "capabilities", base)
        if got is None:
            return None
        value, at = got
        field = at.field or ""
        return Capabilities(
            at, self.items(value, "add", field, self.item_str), self.items(value, "drop", field, self.item_str)
        )

    def security_context(self, m: Map, base: str, *, pod: bool) -> SecurityContext | None:
        got = self.mapping(m, "securityContext", base)
        if got is None:
            return None
        sc, at = got
        field = at.field or ""
        host_process = None
        windows = self.mapping(sc, "windowsOptions", field)
        if windows is not None:
            host_process = self.boolean(windows[0], "hostProcess", windows[1].field or "")
        common: dict[str, Any] = {
            "run_as_user": self.ident(sc, "runAsUser", field),
            "run_as_group": self.ident(sc, "runAsGroup", field),
            "run_as_non_root": self.boolean(sc, "runAsNonRoot", field),
            "seccomp": self.profile(sc, "seccompProfile", field),
            "apparmor": self.profile(sc, "appArmorProfile", field),
            "selinux": self.selinux(sc, field),
            "host_process": host_process,
        }
        if pod:

            def sysctl(value: Any, where: Location) -> Val[str]:
                item = self.item_map(value, where)
                name = self.string(item, "name", where.field or "")
                return name if name is not None else Val("", where)

            return SecurityContext(
                at,
                **common,
                fs_group=self.ident(sc, "fsGroup", field),
                supplemental_groups=self.items(sc, "supplementalGroups", field, self.item_id),
                sysctls=self.items(sc, "sysctls", field, sysctl),
            )
        result = SecurityContext(
            at,
            **common,
            privileged=self.boolean(sc, "privileged", field),
            allow_privilege_escalation=self.boolean(sc, "allowPrivilegeEscalation", field),
            read_only_root_filesystem=self.boolean(sc, "readOnlyRootFilesystem", field),
            capabilities=self.capabilities(sc, field),
            proc_mount=self.string(sc, "procMount", field),
        )
        ape = result.allow_privilege_escalation
        if ape is not None and ape.value is False:
            # API validation (ValidateSecurityContext): escalation is always possible with these
            if result.privileged is not None and result.privileged.value:
                raise self.fail(ape.at, "cannot be false when privileged is true (the API server rejects it)")
            if result.capabilities is not None and any(c.value == "CAP_SYS_ADMIN" for c in result.capabilities.add):
                raise self.fail(
                    ape.at, "cannot be false when capabilities.add has CAP_SYS_ADMIN (the API server rejects it)"
                )
        return result

    def container(self, group: str, index: int, value: Any, at: Location) -> Container:
        c = self.item_map(value, at)
        field = at.field or ""
        name = self.string(c, "name", field)
        ports: list[Val[int]] = []

        def port(item: Any, where: Location) -> None:
            p = self.item_map(item, where)
            host = self.typed(p, "hostPort", where.field or "", int, "an integer")
            if host is not None and host.value != 0:
                ports.append(host)

        self.items(c, "ports", field, port)
        hosts: list[Val[str]] = []
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            got = self.mapping(c, probe, field)
            if got is not None:
                hosts += self.handler_hosts(got[0], got[1].field or "")
        lifecycle = self.mapping(c, "lifecycle", field)
        if lifecycle is not None:
            for hook in ("postStart", "preStop"):
                got = self.mapping(lifecycle[0], hook, lifecycle[1].field or "")
                if got is not None:
                    hosts += self.handler_hosts(got[0], got[1].field or "")

        def env_var(item: Any, where: Location) -> EnvVar:
            e = self.item_map(item, where)
            key = self.string(e, "name", where.field or "") or Val("", where)
            return EnvVar(key, self.string(e, "value", where.field or ""))

        return Container(
            group=group,
            index=index,
            at=at,
            name=name.value if name is not None else "",
            image=self.string(c, "image", field),
            security_context=self.security_context(c, field, pod=False),
            host_ports=tuple(ports),
            probe_hosts=tuple(hosts),
            env=self.items(c, "env", field, env_var),
        )

    def handler_hosts(self, handler: Map, base: str) -> list[Val[str]]:
        hosts = []
        for action in ("httpGet", "tcpSocket"):
            got = self.mapping(handler, action, base)
            if got is not None:
                host = self.string(got[0], "host", got[1].field or "")
                if host is not None and host.value != "":
                    hosts.append(host)
        return hosts

    def volume(self, value: Any, at: Location) -> Volume:
        v = self.item_map(value, at)
        name = self.string(v, "name", at.field or "")
        sources = [key for key in VOLUME_SOURCES if v.get(key) is not None]
        if len(sources) > 1:
            raise self.fail(at, f"may not specify more than one volume source (found {', '.join(sources)})")
        return Volume(name.value if name else "", at, sources[0] if sources else "emptyDir")


def decode(template: PodTemplate, path: str) -> Pod | list[DecodeError]:
    """The pod of ``template``, or why the API server would reject it (each with the field path)."""
    d = _Decoder(path)
    holder_at = template.holder.at
    spec_at = d.loc(holder_at["spec"], template.spec_path) if "spec" in holder_at else d.loc(template.holder.span, "")
    try:
        spec = d.item_map(template.spec, spec_at)
        annotations: dict[str, Val[str]] = {}
        meta = template.metadata
        meta_path = join(template.holder_path, "metadata")
        if meta is not None:
            meta = d.item_map(meta, d.loc(template.holder.at["metadata"], meta_path))
            got = d.mapping(meta, "annotations", meta_path)
            if got is not None:
                for key, value in got[0].items():
                    where = d.loc(got[0].at[key], f"{got[1].field}[{key}]")
                    annotations[key] = d.item_str("" if value is None else value, where)
        base = template.spec_path
        containers: list[Container] = []
        for group in CONTAINER_GROUPS:
            seq = d.sequence(spec, group, base)
            if seq is None:
                continue
            for index, item in enumerate(seq[0]):
                where = d.loc(seq[0].at[index], f"{join(base, group)}[{index}]")
                # an error is recorded; the other containers are still decoded to report all errors
                with contextlib.suppress(_Reject):
                    containers.append(d.container(group, index, item, where))
        if not any(c.group == "containers" for c in containers) and not d.errors:
            raise d.fail(
                replace(spec_at, field=join(base, "containers")), "a pod needs at least one container (Required value)"
            )
        os_name = None
        os = d.mapping(spec, "os", base)
        if os is not None:
            os_name = d.string(os[0], "name", os[1].field or "")
        pod = Pod(
            template=template,
            at=spec_at,
            annotations=annotations,
            host_network=d.boolean(spec, "hostNetwork", base),
            host_pid=d.boolean(spec, "hostPID", base),
            host_ipc=d.boolean(spec, "hostIPC", base),
            host_users=d.boolean(spec, "hostUsers", base),
            os_name=os_name,
            security_context=d.security_context(spec, base, pod=True),
            volumes=d.items(spec, "volumes", base, d.volume),
            containers=tuple(containers),
        )
    except _Reject:
        return d.errors
    return d.errors if d.errors else pod
