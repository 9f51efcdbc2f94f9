"""A Dockerfile stage's effective security context under a default runtime.

The image fixes the user; everything else (capabilities, privileged,
no-new-privs, seccomp) is decided at run time, so a stage gets Docker's
defaults, each marked "runtime default".
"""

from __future__ import annotations

from secpolicy.model import DOCKER_DEFAULT_CAPS, Capabilities, EffectiveContext, Provenance
from secpolicy.resolve.dockerfile import StageState

RUNTIME_DEFAULT = Provenance("runtime default (Docker/containerd)")


def stage_context(path: str, state: StageState) -> EffectiveContext:
    user = state.user
    return EffectiveContext(
        kind="dockerfile-stage",
        path=path,
        target=f"stage {state.label}",
        user=user,
        capabilities=Capabilities.for_user(DOCKER_DEFAULT_CAPS, user),
        privileged=False,
        no_new_privs=False,
        run_as_non_root=None,
        read_only_rootfs=False,
        seccomp="RuntimeDefault",
        provenance={
            "user": user.source,
            "capabilities": RUNTIME_DEFAULT,
            "privileged": RUNTIME_DEFAULT,
            "no_new_privs": RUNTIME_DEFAULT,
            "read_only_rootfs": RUNTIME_DEFAULT,
            "seccomp": RUNTIME_DEFAULT,
        },
    )
