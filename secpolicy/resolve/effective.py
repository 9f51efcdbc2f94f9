"""The one brain: a declared security spec plus the image's user, under a runtime's defaults.

A Dockerfile stage declares nothing at run time (an empty spec) and fixes the
user with its USER; a container will add the pod's and its own
securityContext; ``run`` will add its command-line flags.  Rules judge the
``EffectiveContext`` built here, and ``secpolicy resolve`` prints the same
object.  Every value says where it came from, or "runtime default".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from secpolicy.model import EffectiveContext, EffectiveUser, Provenance
from secpolicy.resolve import capabilities

if TYPE_CHECKING:
    from secpolicy.resolve.dockerfile import StageState

T = TypeVar("T")


@dataclass(frozen=True)
class Resolved(Generic[T]):
    value: T
    source: Provenance


@dataclass(frozen=True)
class SecuritySpec:
    """What a spec declares for one container (None: not declared, the runtime decides)."""

    user: Resolved[str] | None = None  # runAsUser[:runAsGroup], --user
    cap_add: Resolved[tuple[str, ...]] | None = None
    cap_drop: Resolved[tuple[str, ...]] | None = None
    privileged: Resolved[bool] | None = None
    no_new_privs: Resolved[bool] | None = None
    run_as_non_root: Resolved[bool] | None = None
    read_only_rootfs: Resolved[bool] | None = None
    seccomp: Resolved[str] | None = None


def runtime_default(runtime: str) -> Provenance:
    return Provenance(f"runtime default ({capabilities.RUNTIME_NAMES[runtime]})")


def effective(
    kind: str, path: str, target: str, spec: SecuritySpec, image_user: EffectiveUser, runtime: str = "docker"
) -> EffectiveContext:
    from secpolicy.resolve.user import parse_user

    default = runtime_default(runtime)

    def pick(value: Resolved[T] | None, fallback: T) -> tuple[T, Provenance]:
        return (value.value, value.source) if value is not None else (fallback, default)

    user = parse_user(spec.user.value, spec.user.source) if spec.user is not None else image_user
    privileged, privileged_from = pick(spec.privileged, False)
    add, add_from = pick(spec.cap_add, ())
    drop, drop_from = pick(spec.cap_drop, ())
    no_new_privs, nnp_from = pick(spec.no_new_privs, False)
    read_only, ro_from = pick(spec.read_only_rootfs, False)
    seccomp, seccomp_from = pick(spec.seccomp, "Unconfined" if privileged else "RuntimeDefault")
    bounding = capabilities.bounding_set(
        capabilities.RUNTIME_DEFAULTS[runtime], add, drop, privileged=privileged, runtime=runtime
    )
    caps_from = privileged_from if privileged else (add_from if spec.cap_add else drop_from)
    return EffectiveContext(
        kind=kind,
        path=path,
        target=target,
        user=user,
        capabilities=capabilities.held(bounding, user),
        privileged=privileged,
        no_new_privs=no_new_privs,
        run_as_non_root=spec.run_as_non_root.value if spec.run_as_non_root else None,
        read_only_rootfs=read_only,
        seccomp=seccomp,
        provenance={
            "user": user.source,
            "capabilities": caps_from,
            "privileged": privileged_from,
            "no_new_privs": nnp_from,
            "read_only_rootfs": ro_from,
            "seccomp": seccomp_from,
            **({"run_as_non_root": spec.run_as_non_root.source} if spec.run_as_non_root else {}),
        },
    )


def stage_context(path: str, state: StageState, runtime: str = "docker") -> EffectiveContext:
    """A Dockerfile stage run with no run-time settings: its USER decides the user, the runtime the rest."""
    return effective("dockerfile-stage", path, f"stage {state.label}", SecuritySpec(), state.user, runtime)
