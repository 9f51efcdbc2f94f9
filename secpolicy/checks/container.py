"""K8S201-K8S207: what a container will actually run with, judged on its effective context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from secpolicy import secrets
from secpolicy.checks.base import Hit, Params
from secpolicy.model import Location
from secpolicy.resolve.capabilities import normalise

if TYPE_CHECKING:
    from secpolicy.kube.spec import Container, Val
    from secpolicy.resolve.kube import ContainerTarget


def _hit(target: ContainerTarget, message: str, at: Location, key: str = "") -> Hit:
    label = target.label
    return Hit(at.line, message, at.column, label, key or None, at)


def _image_at(c: Container) -> Location:
    return c.image.at if c.image is not None else c.at


def root(target: ContainerTarget, params: Params) -> Iterator[Hit]:
    """K8S201: the container runs as uid 0, or may (its user is unknown and nothing forbids root)."""
    ctx, c = target.context, target.container
    if target.pod.windows or ctx.start_error is not None or ctx.user_namespace:
        # Windows has no uid 0; a container the kubelet refuses does not run (K8S207); in a user
        # namespace (hostUsers: false) uid 0 is an unprivileged uid on the host
        return
    user = ctx.user
    decided = ctx.user.source.location
    at = decided if decided is not None and decided.path == c.at.path else _image_at(c)
    name = c.label
    if not user.known:
        if ctx.run_as_non_root:
            return  # the kubelet verifies the image's user at start and refuses root
        fix = "set runAsNonRoot: true and runAsUser, or add the image to the image map in secpolicy.yaml"
        yield _hit(target, f"{name} may run as root: {user.reason or f'its user is unknown; {fix}'}", at)
    elif user.is_root:
        if decided is not None and decided.field:
            how = f"runAsUser is 0 ({decided.field})"
        else:
            how = f"no runAsUser, and {user.source}"
        yield _hit(target, f"{name} runs as root: {how}; set runAsUser to a non-zero uid and runAsNonRoot: true", at)


@dataclass(frozen=True)
class DangerousParams:
    capabilities: tuple[str, ...] = (
        "SYS_ADMIN",
        "NET_ADMIN",
        "SYS_PTRACE",
        "SYS_MODULE",
        "SYS_RAWIO",
        "DAC_READ_SEARCH",
        "BPF",
        "PERFMON",
        "SYS_BOOT",
        "SYS_TIME",
        "MAC_ADMIN",
        "MAC_OVERRIDE",
        "LINUX_IMMUTABLE",
    )


def _added_at(c: Container, cap: str, runtime: str) -> Location | None:
    sc = c.security_context
    if sc is None or sc.capabilities is None:
        return None
    for item in sc.capabilities.add:
        name = normalise(item.value, runtime)
        if name == cap or name == "ALL":
            return item.at
    return None


def dangerous(target: ContainerTarget, params: DangerousParams) -> Iterator[Hit]:
    """K8S202: a dangerous capability the container's processes can hold."""
    ctx, c = target.context, target.container
    user = ctx.user
    non_root = (user.known and not user.is_root) or ctx.run_as_non_root is True  # the kubelet verifies the latter
    if ctx.start_error is not None or (non_root and ctx.no_new_privs):
        return  # a non-root process with no_new_privs gains nothing from its bounding set
    sc = c.security_context
    who = "it runs as root" if user.is_root else "its user may be root or gain it through a setuid binary"
    held = [cap for cap in params.capabilities if cap in ctx.capabilities.bounding]
    if ctx.privileged and sc is not None and sc.privileged is not None and held:
        yield _hit(
            target,
            f"{c.label} holds every capability (privileged: true), {', '.join('CAP_' + h for h in held)} "
            f"among them, and {who}: drop privileged",
            sc.privileged.at,
            "privileged",
        )
        return
    for cap in held:
        added = _added_at(c, cap, target.runtime)
        at = added or c.unset("capabilities.add")
        how = "added in capabilities.add"
        yield _hit(
            target,
            f"{c.label} holds CAP_{cap} ({how}, and {who}): drop it, or run as non-root with "
            "allowPrivilegeEscalation: false",
            at,
            cap,
        )


def net_raw(target: ContainerTarget, params: Params) -> Iterator[Hit]:
    """K8S203: NET_RAW stays in the bounding set (the Docker/containerd default keeps it)."""
    ctx, c = target.context, target.container
    if target.pod.windows or "NET_RAW" not in ctx.capabilities.bounding:
        return
    sc = c.security_context
    caps = sc.capabilities if sc is not None else None
    at = caps.at if caps is not None else c.unset("capabilities.drop")
    source = ctx.provenance.get("capabilities")
    why = "privileged: true" if ctx.privileged else f"{source}" if source else "the runtime default set"
    yield _hit(
        target,
        f"{c.label} keeps CAP_NET_RAW ({why}): raw sockets allow ARP and DNS spoofing on the node's network; "
        "add NET_RAW (or ALL) to securityContext.capabilities.drop",
        at,
    )


def root_group(target: ContainerTarget, params: Params) -> Iterator[Hit]:
    """K8S204: group 0 set explicitly: runAsGroup, fsGroup or supplementalGroups."""
    c, pod = target.container, target.pod
    if pod.windows:
        return
    csc, psc = c.security_context, pod.security_context
    gid: Val[int] | None = None
    for sc in (csc, psc):
        if sc is not None and sc.run_as_group is not None:
            gid = sc.run_as_group
            break
    found: list[tuple[Location, str]] = []
    if gid is not None and gid.value == 0:
        found.append((gid.at, "runAsGroup is 0"))
    if psc is not None:
        if psc.fs_group is not None and psc.fs_group.value == 0:
            found.append((psc.fs_group.at, "fsGroup is 0"))
        for g in psc.supplemental_groups:
            if g.value == 0:
                found.append((g.at, "supplementalGroups contains 0"))
    for at, what in found:
        yield _hit(
            target,
            f"{c.label} runs with the root group: {what}; files owned by group root become writable to it",
            at,
            at.field or what,
        )


def writable_rootfs(target: ContainerTarget, params: Params) -> Iterator[Hit]:
    """K8S205: readOnlyRootFilesystem is not true."""
    c = target.container
    if target.pod.windows:
        return
    sc = c.security_context
    ro = sc.read_only_root_filesystem if sc is not None else None
    if ro is not None and ro.value:
        return
    at = ro.at if ro is not None else c.unset("readOnlyRootFilesystem")
    yield _hit(
        target,
        f"{c.label} has a writable root filesystem: set securityContext.readOnlyRootFilesystem: true "
        "(and mount an emptyDir where it must write)",
        at,
    )


def env_secret(target: ContainerTarget, params: Params) -> Iterator[Hit]:
    """K8S206: a secret written as a literal env value (anyone who can read the object can read it)."""
    c = target.container
    for var in c.env:
        if var.value is None:
            continue
        name, value = var.name.value, var.value.value
        token = secrets.find_token(value)
        if token is not None:
            why = f"holds a secret: {token.name}"
        elif (
            secrets.is_secret_name(name) and secrets.not_secret_value_reason(name, value) is None and "$(" not in value
        ):
            why = "has a secret-like name and a literal value"
        else:
            continue
        yield _hit(
            target,
            f"{c.label}: env {name} {why}; anyone who can read this object can read it: use valueFrom.secretKeyRef",
            var.value.at,
            name,
        )


def refused(target: ContainerTarget, params: Params) -> Iterator[Hit]:
    """K8S207: the kubelet will refuse to start the container (runAsNonRoot cannot be verified, or is broken)."""
    ctx, c = target.context, target.container
    if ctx.start_error is None:
        return
    source = ctx.provenance.get("run_as_non_root")
    at = source.location if source is not None and source.location is not None else c.at
    yield _hit(target, f"{c.label} will not start: {ctx.start_error}", at)
