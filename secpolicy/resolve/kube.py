"""A pod's containers as targets: the declared spec for PSS, the effective context for the runtime rules.

The effective context of a container follows the kubelet
(``pkg/securitycontext/util.go`` ``DetermineEffectiveSecurityContext``):
runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions (as a whole) and
seccompProfile of the container win over the pod's; capabilities,
privileged, allowPrivilegeEscalation, readOnlyRootFilesystem and procMount
exist only per container; supplementalGroups and fsGroup only per pod.  With
neither runAsUser set, the image's own user decides, found by the
``ImageResolver`` (image map, a Dockerfile of the repository, the built-in
table).  ``runAsNonRoot: true`` is checked at start the way the kubelet does
(``verifyRunAsNonRoot``): uid 0 or a user *name* in the image refuses to start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from secpolicy.kube.spec import Container, Pod, SecurityContext, Val
from secpolicy.kube.versions import Version
from secpolicy.model import EffectiveContext, EffectiveUser, Location, Provenance
from secpolicy.resolve.effective import Resolved, SecuritySpec, effective
from secpolicy.resolve.images import ImageResolver
from secpolicy.resolve.user import numeric

T = TypeVar("T")


@dataclass(frozen=True)
class PodTarget:
    """A pod (or pod template) as PSS judges it: the declared spec, at a level and version."""

    pod: Pod
    level: str
    version: Version


@dataclass(frozen=True)
class ContainerTarget:
    pod: Pod
    container: Container
    context: EffectiveContext
    runtime: str = "containerd"  # whose capability names and default set apply

    @property
    def label(self) -> str:
        return f"{self.pod.label} {self.container.label}"


def _from(val: Val[object], what: str | None = None) -> Provenance:
    at = val.at
    return Provenance(what or "", at.path, at.line, at.column, at.field)


def _pick(
    container_sc: SecurityContext | None,
    pod_sc: SecurityContext | None,
    get: Callable[[SecurityContext], Val[T] | None],
) -> Val[T] | None:
    """The container's value, else the pod's."""
    for sc in (container_sc, pod_sc):
        if sc is not None:
            value = get(sc)
            if value is not None:
                return value
    return None


def _resolved(val: Val[T] | None) -> Resolved[T] | None:
    return Resolved(val.value, _from(val)) if val is not None else None


KUBELET_SECCOMP_DEFAULT = Provenance("kubelet default: Unconfined unless the kubelet runs with --seccomp-default")
NOT_PRIVILEGED = Provenance("privileged not set (false)")
ESCALATION_UNSET = Provenance("allowPrivilegeEscalation not set: no_new_privs stays off")
WRITABLE = Provenance("readOnlyRootFilesystem not set (false)")
NON_ROOT_UNSET = Provenance("runAsNonRoot not set: the kubelet does not check the user")
PROC_MOUNT_DEFAULT = Provenance("procMount not set (Default: masked paths)")


def container_context(
    pod: Pod, container: Container, images: ImageResolver, runtime: str = "containerd"
) -> EffectiveContext:
    csc, psc = container.security_context, pod.security_context
    uid = _pick(csc, psc, lambda sc: sc.run_as_user)
    gid = _pick(csc, psc, lambda sc: sc.run_as_group)
    non_root = _pick(csc, psc, lambda sc: sc.run_as_non_root)
    seccomp_profile = csc.seccomp if csc is not None and csc.seccomp is not None else (psc.seccomp if psc else None)
    caps = csc.capabilities if csc is not None else None

    image_user = _image_user(container, images)
    user = _user(image_user, uid, gid, psc)

    seccomp: Resolved[str]
    privileged = csc.privileged if csc is not None else None
    if privileged is not None and privileged.value:
        # containerd's generateSeccompSpecOpts: "if privileged { return nil }", whatever the profile says
        seccomp = Resolved("Unconfined", _from(privileged, "privileged: true runs without seccomp"))
    elif seccomp_profile is not None and seccomp_profile.type is not None:
        seccomp = Resolved(seccomp_profile.type.value, _from(seccomp_profile.type))
    else:
        seccomp = Resolved("Unconfined", KUBELET_SECCOMP_DEFAULT)
    ape = csc.allow_privilege_escalation if csc is not None else None
    spec = SecuritySpec(
        cap_add=Resolved(tuple(c.value for c in caps.add), _from(Val(None, caps.at))) if caps and caps.add else None,
        cap_drop=Resolved(tuple(c.value for c in caps.drop), _from(Val(None, caps.at))) if caps and caps.drop else None,
        privileged=_resolved(csc.privileged if csc else None) or Resolved(False, NOT_PRIVILEGED),
        # AddNoNewPrivileges: only an explicit allowPrivilegeEscalation=false sets no_new_privs
        no_new_privs=Resolved(not ape.value, _from(ape)) if ape is not None else Resolved(False, ESCALATION_UNSET),
        run_as_non_root=_resolved(non_root),
        read_only_rootfs=_resolved(csc.read_only_root_filesystem if csc else None) or Resolved(False, WRITABLE),
        seccomp=seccomp,
    )
    context = effective("container", container.at.path, f"{pod.label} {container.label}", spec, user, runtime)
    hosts = tuple(
        name
        for name, val in (("network", pod.host_network), ("pid", pod.host_pid), ("ipc", pod.host_ipc))
        if val is not None and val.value
    )
    provenance = dict(context.provenance)
    if gid is not None:
        provenance["gid"] = _from(gid)
    if non_root is None:
        provenance["run_as_non_root"] = NON_ROOT_UNSET
    if psc is not None and (psc.supplemental_groups or psc.fs_group is not None):
        first = psc.supplemental_groups[0] if psc.supplemental_groups else psc.fs_group
        if first is not None:
            provenance["groups"] = _from(first, "supplementalGroups and fsGroup")
    host_fields = [v for v in (pod.host_network, pod.host_pid, pod.host_ipc) if v is not None and v.value]
    if host_fields:
        provenance["host_namespaces"] = _from(host_fields[0])
    proc_mount = csc.proc_mount if csc is not None else None
    provenance["proc_mount"] = _from(proc_mount) if proc_mount is not None else PROC_MOUNT_DEFAULT
    if pod.host_users is not None:
        provenance["user_namespace"] = _from(pod.host_users)
    if context.privileged:
        # "AllowPrivilegeEscalation is true always when the container is run as privileged" (API docs)
        provenance["no_new_privs"] = provenance["privileged"]
    selinux, selinux_from = _selinux(csc, psc)
    apparmor, apparmor_from = _apparmor(pod, container, csc, psc, context.privileged)
    provenance["apparmor"] = apparmor_from
    if selinux_from is not None:
        provenance["selinux"] = selinux_from
    start_error = _kubelet_refuses(context, uid, windows=pod.windows)
    if start_error is not None and "run_as_non_root" in provenance:
        provenance["start_error"] = provenance["run_as_non_root"]
    return replace(
        context,
        selinux=selinux,
        apparmor=apparmor,
        proc_mount=proc_mount.value if proc_mount is not None else "Default",
        user_namespace=pod.user_namespace,
        host_namespaces=hosts,
        start_error=start_error,
        provenance=provenance,
    )


def _selinux(csc: SecurityContext | None, psc: SecurityContext | None) -> tuple[str | None, Provenance | None]:
    """seLinuxOptions of the container replace the pod's as a whole (no per-field merge)."""
    for sc in (csc, psc):
        if sc is not None and sc.selinux is not None:
            opts = sc.selinux
            parts = [
                f"{k}={v}"
                for k, v in (("user", opts.user), ("role", opts.role), ("type", opts.type), ("level", opts.level))
                if v
            ]
            at = opts.at
            return " ".join(parts) or "(empty)", Provenance("", at.path, at.line, at.column, at.field)
    return None, None


APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"


def _apparmor(
    pod: Pod, container: Container, csc: SecurityContext | None, psc: SecurityContext | None, privileged: bool
) -> tuple[str, Provenance]:
    """The container's appArmorProfile, else the pod's, else the legacy annotation (kubelet ``apparmor.GetProfile``)."""
    unconfined = Provenance("privileged: true runs without the default AppArmor profile")
    for sc in (csc, psc):
        if sc is not None and sc.apparmor is not None and sc.apparmor.type is not None:
            value = sc.apparmor.type.value
            # containerd applies RuntimeDefault only to unprivileged containers; a Localhost profile always
            return (
                ("Unconfined", unconfined)
                if privileged and value == "RuntimeDefault"
                else (value, _from(sc.apparmor.type))
            )
    annotation = pod.annotations.get(APPARMOR_ANNOTATION + container.name)
    if annotation is not None and annotation.value:
        value = annotation.value
        shown = "RuntimeDefault" if value == "runtime/default" else "Unconfined" if value == "unconfined" else value
        return ("Unconfined", unconfined) if privileged and shown == "RuntimeDefault" else (shown, _from(annotation))
    if privileged:
        return "Unconfined", unconfined
    return "RuntimeDefault", Provenance("runtime default (on nodes with AppArmor enabled)")


def _image_user(container: Container, images: ImageResolver) -> EffectiveUser:
    fix = "set runAsUser (and runAsNonRoot: true)"
    if container.image is None or not container.image.value:
        return EffectiveUser(
            None,
            None,
            None,
            False,
            Provenance("no image"),
            reason=f"{container.label} names no image, so its user is unknown: {fix}",
        )
    user = images.user(container.image.value, what="image", fix=fix)
    return user


def _user(
    image_user: EffectiveUser, uid: Val[int] | None, gid: Val[int] | None, psc: SecurityContext | None
) -> EffectiveUser:
    groups: set[int] = set()
    if psc is not None:
        groups.update(g.value for g in psc.supplemental_groups)
        if psc.fs_group is not None:
            groups.add(psc.fs_group.value)  # the kubelet adds fsGroup to the supplementary groups
    if uid is not None:
        value = uid.value
        # without runAsGroup the runtime takes the uid's group from the image's /etc/passwd (else 0)
        same = image_user.known and image_user.uid == value
        user = EffectiveUser(
            uid=value,
            gid=image_user.gid if same else None,
            name=None,
            known=True,
            source=_from(uid),
            spec=str(value),
        )
    else:
        user = image_user
    if gid is not None:
        user = replace(user, gid=gid.value, group=str(gid.value))
    return replace(user, groups=tuple(sorted(groups | set(user.groups))))


def _kubelet_refuses(context: EffectiveContext, uid: Val[object] | None, *, windows: bool = False) -> str | None:
    """Why the kubelet will not start the container under runAsNonRoot (``verifyRunAsNonRoot``), if it will not."""
    if not context.run_as_non_root:
        return None
    user = context.user
    if windows:
        # security_context_windows.go: only the administrator account is refused; uids do not exist there
        if user.known and user.name is not None and user.name.lower() == "containeradministrator":
            return "the image runs as ContainerAdministrator and runAsNonRoot is true: the kubelet refuses to start it"
        return None
    if uid is not None:
        return "runAsUser 0 breaks runAsNonRoot: the kubelet refuses to start it" if uid.value == 0 else None
    if not user.known:
        return None  # the kubelet checks the image's user at start; it cannot start as root
    if user.uid == 0 or (user.uid is None and user.name == "root"):
        return "the image runs as root and runAsNonRoot is true: the kubelet refuses to start it"
    if numeric((user.spec or "").partition(":")[0]) is None:
        return (
            f"the image's user is the name {user.name!r}, not a numeric uid: the kubelet cannot verify runAsNonRoot "
            "and refuses to start it (set runAsUser, or a numeric USER in the image)"
        )
    return None


def where(context: EffectiveContext, fallback: Location) -> Location:
    """The location that decided the user, when it is in the same file, else ``fallback``."""
    source = context.user.source.location
    return source if source is not None and source.path == fallback.path else fallback
