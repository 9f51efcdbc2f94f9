"""The Pod Security Standards, control by control and version by version, as pod-security-admission has them.

Each control follows ``policy/check_<id>.go`` of kubernetes/pod-security-admission
v0.36.2 (Kubernetes 1.35); the version table, the restricted level's
overrides of baseline controls and the clamping of newer versions follow
``policy/registry.go``.  A control judges the *declared* pod spec, as PSA does
(the effective context is for the runtime rules), and returns one violation
per offending field, each with its location, where PSA returns one message
per control.  PSA's wording is kept: the reason, then what must change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache

from secpolicy.kube.spec import VOLUME_SOURCES, Container, Pod, SecurityContext, Val
from secpolicy.kube.versions import NEWEST, Version, VersionError, parse_version
from secpolicy.model import Location

__all__ = ["NEWEST", "Version", "VersionError", "parse_version"]


@dataclass(frozen=True)
class Violation:
    message: str
    at: Location
    key: str  # stable identity: container name and field, volume name, sysctl, ...


Fn = Callable[[Pod], list[Violation]]


# -- helpers -------------------------------------------------------------


def _q(name: str) -> str:
    return f'"{name}"'


def _sc(c: Container) -> SecurityContext | None:
    return c.security_context


def _setters(pod: Pod) -> Iterator[tuple[str, str, SecurityContext | None]]:
    """(who, key, securityContext) of the pod, then of each container: the order and wording of PSA's bad setters."""
    yield "pod", "pod", pod.security_context
    for c in pod.containers:
        yield f"container {_q(c.name)}", c.name, c.security_context


def _windows_exempt(fn: Fn) -> Fn:
    """From v1.25 a pod with ``spec.os.name: windows`` passes (API validation forbids these fields there)."""

    def check(pod: Pod) -> list[Violation]:
        return [] if pod.windows else fn(pod)

    return check


def _userns_relaxed(fn: Fn) -> Fn:
    """From v1.35 a pod with ``hostUsers: false`` (a user namespace) passes (KEP-127)."""

    def check(pod: Pod) -> list[Violation]:
        return [] if pod.user_namespace else fn(pod)

    return check


# -- baseline ----------------------------------------------------------------


def host_process(pod: Pod) -> list[Violation]:
    return [
        Violation(
            f"hostProcess: {who} must not set securityContext.windowsOptions.hostProcess=true", sc.host_process.at, key
        )
        for who, key, sc in _setters(pod)
        if sc is not None and sc.host_process is not None and sc.host_process.value
    ]


def host_namespaces(pod: Pod) -> list[Violation]:
    out = []
    for name, val in (("hostNetwork", pod.host_network), ("hostPID", pod.host_pid), ("hostIPC", pod.host_ipc)):
        if val is not None and val.value:
            out.append(Violation(f"host namespaces: {name}=true", val.at, name))
    return out


def privileged(pod: Pod) -> list[Violation]:
    out = []
    for c in pod.containers:
        sc = _sc(c)
        if sc is not None and sc.privileged is not None and sc.privileged.value:
            out.append(
                Violation(
                    f"privileged: container {_q(c.name)} must not set securityContext.privileged=true",
                    sc.privileged.at,
                    c.name,
                )
            )
    return out


BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def capabilities_baseline(pod: Pod) -> list[Violation]:
    out = []
    for c in pod.containers:
        sc = _sc(c)
        if sc is None or sc.capabilities is None:
            continue
        for cap in sc.capabilities.add:
            if cap.value not in BASELINE_CAPABILITIES:  # exact and case-sensitive, as PSA compares
                out.append(
                    Violation(
                        f"non-default capabilities: container {_q(c.name)} must not include {_q(cap.value)} "
                        "in securityContext.capabilities.add",
                        cap.at,
                        f"{c.name}:{cap.value}",
                    )
                )
    return out


def host_path_volumes(pod: Pod) -> list[Violation]:
    return [
        Violation(f"hostPath volumes: volume {_q(v.name)}", v.at, v.name) for v in pod.volumes if v.source == "hostPath"
    ]


def host_ports(pod: Pod) -> list[Violation]:
    return [
        Violation(f"hostPort: container {_q(c.name)} uses hostPort {p.value}", p.at, f"{c.name}:{p.value}")
        for c in pod.containers
        for p in c.host_ports
    ]


def _apparmor_type_ok(profile_type: str) -> bool:
    return profile_type in ("RuntimeDefault", "Localhost")


def _apparmor_annotation_ok(value: str) -> bool:
    return value == "" or value == "runtime/default" or value.startswith("localhost/")


APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def apparmor(pod: Pod) -> list[Violation]:
    out = []

    def bad(sc: SecurityContext | None) -> Val[str] | None:
        if sc is None or sc.apparmor is None:
            return None
        t = sc.apparmor.type
        value = t.value if t is not None else ""
        if _apparmor_type_ok(value):
            return None
        return t if t is not None else Val("", sc.apparmor.at)

    for who, key, sc in _setters(pod):
        got = bad(sc)
        if got is not None:
            out.append(
                Violation(
                    f"forbidden AppArmor profile: {who} must not set AppArmor profile type to {_q(got.value)}",
                    got.at,
                    key,
                )
            )
    for key, val in sorted(pod.annotations.items()):
        if key.startswith(APPARMOR_PREFIX) and not _apparmor_annotation_ok(val.value):
            out.append(
                Violation(
                    f"forbidden AppArmor profile: annotation {key}={_q(val.value)} must not set a profile other "
                    'than "runtime/default" or "localhost/*"',
                    val.at,
                    key,
                )
            )
    return out


_SELINUX_TYPES_1_0 = frozenset({"", "container_t", "container_init_t", "container_kvm_t"})
_SELINUX_TYPES_1_31 = _SELINUX_TYPES_1_0 | {"container_engine_t"}


def _selinux(allowed: frozenset[str]) -> Fn:
    def check(pod: Pod) -> list[Violation]:
        out = []

        def judge(sc: SecurityContext | None, who: str, key: str) -> None:
            if sc is None or sc.selinux is None:
                return
            opts = sc.selinux
            problems = []
            if opts.type not in allowed:
                problems.append(f"type {_q(opts.type)}")
            if opts.user:
                problems.append("user may not be set")
            if opts.role:
                problems.append("role may not be set")
            if problems:
                out.append(
                    Violation(
                        f"seLinuxOptions: {who} set forbidden securityContext.seLinuxOptions: {'; '.join(problems)}",
                        opts.at,
                        key,
                    )
                )

        for who, key, sc in _setters(pod):
            judge(sc, who, key)
        return out

    return check


def proc_mount(pod: Pod) -> list[Violation]:
    out = []
    for c in pod.containers:
        sc = _sc(c)
        if sc is not None and sc.proc_mount is not None and sc.proc_mount.value != "Default":
            out.append(
                Violation(
                    f"procMount: container {_q(c.name)} must not set securityContext.procMount to "
                    f"{_q(sc.proc_mount.value)}",
                    sc.proc_mount.at,
                    c.name,
                )
            )
    return out


SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod"
SECCOMP_CONTAINER_PREFIX = "container.seccomp.security.alpha.kubernetes.io/"


def _seccomp_annotation_ok(value: str) -> bool:
    return value in ("runtime/default", "docker/default") or value.startswith("localhost/")


def seccomp_baseline_1_0(pod: Pod) -> list[Violation]:
    """Before 1.19 seccomp was set by annotations on the pod (template) metadata."""
    out = []
    keys = [SECCOMP_POD_ANNOTATION] + [SECCOMP_CONTAINER_PREFIX + c.name for c in pod.containers]
    for key in dict.fromkeys(keys):
        val = pod.annotations.get(key)
        if val is not None and not _seccomp_annotation_ok(val.value):
            out.append(Violation(f"seccompProfile: forbidden annotation {key}={_q(val.value)}", val.at, key))
    return out


def _seccomp_type_ok(profile_type: str) -> bool:
    return profile_type in ("RuntimeDefault", "Localhost")


def _seccomp_bad(sc: SecurityContext | None) -> Val[str] | None:
    """The explicitly set bad seccomp type of ``sc`` (a profile with no type counts as type "")."""
    if sc is None or sc.seccomp is None:
        return None
    t = sc.seccomp.type
    if t is not None and _seccomp_type_ok(t.value):
        return None
    return t if t is not None else Val("", sc.seccomp.at)


def seccomp_baseline_1_19(pod: Pod) -> list[Violation]:
    out = []
    for who, key, sc in _setters(pod):
        got = _seccomp_bad(sc)
        if got is not None:
            out.append(
                Violation(
                    f"seccompProfile: {who} must not set securityContext.seccompProfile.type to {_q(got.value)}",
                    got.at,
                    key,
                )
            )
    return out


_SYSCTLS_1_0 = frozenset(
    {
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
    }
)
_SYSCTLS_1_27 = _SYSCTLS_1_0 | {"net.ipv4.ip_local_reserved_ports"}
_SYSCTLS_1_29 = _SYSCTLS_1_27 | {
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
_SYSCTLS_1_32 = _SYSCTLS_1_29 | {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}


def _sysctls(allowed: frozenset[str]) -> Fn:
    def check(pod: Pod) -> list[Violation]:
        sc = pod.security_context
        if sc is None:
            return []
        return [Violation(f"forbidden sysctls: {s.value}", s.at, s.value) for s in sc.sysctls if s.value not in allowed]

    return check


def host_probes(pod: Pod) -> list[Violation]:
    return [
        Violation(
            f"probe or lifecycle host: container {_q(c.name)} uses probe or lifecycle host {_q(h.value)}",
            h.at,
            f"{c.name}:{h.value}",
        )
        for c in pod.containers
        for h in c.probe_hosts
    ]


# -- restricted ---------------------------------------------------------------

RESTRICTED_VOLUME_SOURCES = frozenset(VOLUME_SOURCES[:9])  # spec.VOLUME_SOURCES lists PSA's allowed ones first


def restricted_volumes(pod: Pod) -> list[Violation]:
    return [
        Violation(
            f"restricted volume types: volume {_q(v.name)} uses restricted volume type {_q(v.source)}", v.at, v.name
        )
        for v in pod.volumes
        if v.source not in RESTRICTED_VOLUME_SOURCES
    ]


def allow_privilege_escalation(pod: Pod) -> list[Violation]:
    out = []
    for c in pod.containers:
        sc = _sc(c)
        ape = sc.allow_privilege_escalation if sc is not None else None
        if ape is None or ape.value:
            at = ape.at if ape is not None else c.unset("allowPrivilegeEscalation")
            out.append(
                Violation(
                    f"allowPrivilegeEscalation != false: container {_q(c.name)} must set "
                    "securityContext.allowPrivilegeEscalation=false",
                    at,
                    c.name,
                )
            )
    return out


def run_as_non_root(pod: Pod) -> list[Violation]:
    explicit = []
    implicit = []
    psc = pod.security_context
    pod_true = False
    if psc is not None and psc.run_as_non_root is not None:
        if psc.run_as_non_root.value:
            pod_true = True
        else:
            explicit.append(
                Violation(
                    "runAsNonRoot != true: pod must not set securityContext.runAsNonRoot=false",
                    psc.run_as_non_root.at,
                    "pod",
                )
            )
    for c in pod.containers:
        sc = _sc(c)
        if sc is not None and sc.run_as_non_root is not None:
            if not sc.run_as_non_root.value:
                explicit.append(
                    Violation(
                        f"runAsNonRoot != true: container {_q(c.name)} must not set securityContext.runAsNonRoot=false",
                        sc.run_as_non_root.at,
                        c.name,
                    )
                )
        elif not pod_true:
            implicit.append(
                Violation(
                    f"runAsNonRoot != true: pod or container {_q(c.name)} must set securityContext.runAsNonRoot=true",
                    c.unset("runAsNonRoot"),
                    c.name,
                )
            )
    return explicit or implicit  # PSA reports the explicit setters when there are any


def run_as_user(pod: Pod) -> list[Violation]:
    return [
        Violation(f"runAsUser=0: {who} must not set runAsUser=0", sc.run_as_user.at, key)
        for who, key, sc in _setters(pod)
        if sc is not None and sc.run_as_user is not None and sc.run_as_user.value == 0
    ]


def seccomp_restricted(pod: Pod) -> list[Violation]:
    explicit = []
    implicit = []
    psc = pod.security_context
    pod_set = False
    got = _seccomp_bad(psc)
    if got is not None:
        explicit.append(
            Violation(
                f"seccompProfile: pod must not set securityContext.seccompProfile.type to {_q(got.value)}",
                got.at,
                "pod",
            )
        )
    elif psc is not None and psc.seccomp is not None:
        pod_set = True
    for c in pod.containers:
        sc = _sc(c)
        if sc is not None and sc.seccomp is not None:
            got = _seccomp_bad(sc)
            if got is not None:
                explicit.append(
                    Violation(
                        f"seccompProfile: container {_q(c.name)} must not set securityContext.seccompProfile.type to "
                        f"{_q(got.value)}",
                        got.at,
                        c.name,
                    )
                )
        elif not pod_set:
            implicit.append(
                Violation(
                    f"seccompProfile: pod or container {_q(c.name)} must set securityContext.seccompProfile.type to "
                    '"RuntimeDefault" or "Localhost"',
                    c.unset("seccompProfile.type"),
                    c.name,
                )
            )
    return explicit or implicit


def capabilities_restricted(pod: Pod) -> list[Violation]:
    missing = []
    adding = []
    for c in pod.containers:
        sc = _sc(c)
        caps = sc.capabilities if sc is not None else None
        if caps is None or not any(d.value == "ALL" for d in caps.drop):  # the literal ALL: "all" does not count
            if caps is not None and caps.drop:
                at = replace(caps.drop[0].at, field=(caps.at.field or "") + ".drop")
            elif caps is not None:
                at = replace(caps.at, field=(caps.at.field or "") + ".drop")
            else:
                at = c.unset("capabilities.drop")
            missing.append(
                Violation(
                    f'unrestricted capabilities: container {_q(c.name)} must set securityContext.capabilities.drop=["ALL"]',
                    at,
                    f"{c.name}:drop",
                )
            )
        for cap in caps.add if caps is not None else ():
            if cap.value != "NET_BIND_SERVICE":
                adding.append(
                    Violation(
                        f"unrestricted capabilities: container {_q(c.name)} must not include {_q(cap.value)} in "
                        "securityContext.capabilities.add",
                        cap.at,
                        f"{c.name}:{cap.value}",
                    )
                )
    return missing + adding


# -- the table -----------------------------------------------------------------


@dataclass(frozen=True)
class VersionedCheck:
    minimum: int  # minor version
    run: Fn
    overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Control:
    id: str  # PSA's CheckID
    level: str
    versions: tuple[VersionedCheck, ...]

    @property
    def since(self) -> Version:
        return Version(self.versions[0].minimum)


def _c(check_id: str, level: str, *versions: VersionedCheck) -> Control:
    return Control(check_id, level, versions)


V = VersionedCheck
CONTROLS: dict[str, Control] = {
    c.id: c
    for c in (
        _c("hostNamespaces", "baseline", V(0, host_namespaces)),
        _c("privileged", "baseline", V(0, privileged)),
        _c("capabilities_baseline", "baseline", V(0, capabilities_baseline)),
        _c("hostPathVolumes", "baseline", V(0, host_path_volumes)),
        _c("hostPorts", "baseline", V(0, host_ports)),
        _c("appArmorProfile", "baseline", V(0, apparmor)),
        _c("seLinuxOptions", "baseline", V(0, _selinux(_SELINUX_TYPES_1_0)), V(31, _selinux(_SELINUX_TYPES_1_31))),
        _c("procMount", "baseline", V(0, proc_mount), V(35, _userns_relaxed(proc_mount))),
        _c("seccompProfile_baseline", "baseline", V(0, seccomp_baseline_1_0), V(19, seccomp_baseline_1_19)),
        _c(
            "sysctls",
            "baseline",
            V(0, _sysctls(_SYSCTLS_1_0)),
            V(27, _sysctls(_SYSCTLS_1_27)),
            V(29, _sysctls(_SYSCTLS_1_29)),
            V(32, _sysctls(_SYSCTLS_1_32)),
        ),
        _c("windowsHostProcess", "baseline", V(0, host_process)),
        _c("hostProbesAndHostLifecycle", "baseline", V(34, host_probes)),
        _c("restrictedVolumes", "restricted", V(0, restricted_volumes, ("hostPathVolumes",))),
        _c(
            "allowPrivilegeEscalation",
            "restricted",
            V(8, allow_privilege_escalation),
            V(25, _windows_exempt(allow_privilege_escalation)),
        ),
        _c("runAsNonRoot", "restricted", V(0, run_as_non_root), V(35, _userns_relaxed(run_as_non_root))),
        _c("runAsUser", "restricted", V(23, run_as_user), V(35, _userns_relaxed(run_as_user))),
        _c(
            "seccompProfile_restricted",
            "restricted",
            V(19, seccomp_restricted, ("seccompProfile_baseline",)),
            V(25, _windows_exempt(seccomp_restricted), ("seccompProfile_baseline",)),
        ),
        _c(
            "capabilities_restricted",
            "restricted",
            V(22, capabilities_restricted, ("capabilities_baseline",)),
            V(25, _windows_exempt(capabilities_restricted), ("capabilities_baseline",)),
        ),
        _c("procMount_restricted", "restricted", V(35, proc_mount, ("procMount",))),
    )
}


def _at(control: Control, minor: int) -> VersionedCheck | None:
    found = None
    for versioned in control.versions:
        if versioned.minimum <= minor:
            found = versioned
    return found


@cache
def active(level: str, minor: int) -> dict[str, Fn]:
    """The controls PSA runs at ``level`` and version 1.``minor``: restricted adds its own and drops what they override."""
    minor = min(minor, NEWEST)
    chosen: dict[str, VersionedCheck] = {}
    for control in CONTROLS.values():
        if control.level == "baseline" or level == "restricted":
            versioned = _at(control, minor)
            if versioned is not None:
                chosen[control.id] = versioned
    if level == "restricted":
        overridden = {o for v in chosen.values() for o in v.overrides}
        for control_id in overridden:
            chosen.pop(control_id, None)
    return {control_id: v.run for control_id, v in chosen.items()}


def evaluate(pod: Pod, level: str, version: Version) -> dict[str, list[Violation]]:
    """Every active control's violations (empty lists for the controls that pass)."""
    return {control_id: run(pod) for control_id, run in active(level, version.minor).items()}


def controls_of(level: str) -> Iterable[Control]:
    return (c for c in CONTROLS.values() if c.level == level)
