"""Capability semantics: runtime defaults, add/drop with ALL, privileged, what uid 0 and others hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from secpolicy.model import EffectiveUser, Provenance
from secpolicy.resolve.capabilities import ALL_CAPABILITIES, RUNTIME_DEFAULTS, bounding_set, held
from secpolicy.resolve.effective import Resolved, SecuritySpec, effective

SOURCE = Provenance("test")
names = st.sampled_from([*ALL_CAPABILITIES, "ALL", "all", "cap_net_raw", "Sys_Admin"])
users = st.one_of(
    st.just(EffectiveUser(0, 0, "root", True, SOURCE)),
    st.integers(1, 70000).map(lambda uid: EffectiveUser(uid, uid, None, True, SOURCE)),
)


@given(
    st.sampled_from(sorted(RUNTIME_DEFAULTS)),
    st.lists(names, max_size=6),
    st.lists(names, max_size=6),
    st.booleans(),
    users,
    st.lists(names, max_size=4),
)
def test_effective_within_permitted_within_bounding(runtime, add, drop, privileged, user, ambient) -> None:
    bounding = bounding_set(RUNTIME_DEFAULTS[runtime], add, drop, privileged=privileged)
    caps = held(bounding, user, ambient)
    assert caps.effective is not None
    assert caps.permitted is not None
    assert set(caps.effective) <= set(caps.permitted) <= set(caps.bounding)
    assert set(caps.ambient) <= set(caps.bounding)
    assert caps.inheritable == ()
    if privileged:
        assert set(bounding) == set(ALL_CAPABILITIES)
    if user.uid == 0:
        assert caps.effective == bounding
    else:
        assert set(caps.effective) == set(caps.ambient)


@given(st.sampled_from(ALL_CAPABILITIES), st.sampled_from(sorted(RUNTIME_DEFAULTS)))
def test_drop_all_then_add_one_is_that_one(cap: str, runtime: str) -> None:
    assert bounding_set(RUNTIME_DEFAULTS[runtime], [cap.lower()], ["ALL"]) == (cap,)
    assert bounding_set(RUNTIME_DEFAULTS[runtime], ["ALL"], []) == tuple(sorted(ALL_CAPABILITIES))


def test_runtime_defaults() -> None:
    assert len(RUNTIME_DEFAULTS["docker"]) == 14
    assert len(RUNTIME_DEFAULTS["cri-o"]) == 9
    assert "NET_RAW" in RUNTIME_DEFAULTS["docker"]
    assert "NET_RAW" not in RUNTIME_DEFAULTS["cri-o"]
    assert len(ALL_CAPABILITIES) == 41


def test_unknown_user_holds_unknown_sets() -> None:
    caps = held(RUNTIME_DEFAULTS["docker"], EffectiveUser(None, None, None, False, SOURCE))
    assert caps.effective is None
    assert caps.permitted is None


def test_spec_on_top_of_the_image_user() -> None:
    image_user = EffectiveUser(1000, 1000, None, True, Provenance("USER 1000", "Dockerfile", 3))
    spec = SecuritySpec(
        user=Resolved("0", Provenance("runAsUser", "pod.yaml", 7, 9, "spec.securityContext.runAsUser")),
        cap_drop=Resolved(("ALL",), Provenance("capabilities.drop", "pod.yaml", 12)),
        cap_add=Resolved(("NET_BIND_SERVICE",), Provenance("capabilities.add", "pod.yaml", 13)),
    )
    ctx = effective("container", "pod.yaml", "container api", spec, image_user)
    assert ctx.user.uid == 0
    assert ctx.capabilities.effective == ("NET_BIND_SERVICE",)
    assert ctx.provenance["user"].location is not None
    assert ctx.provenance["user"].location.field == "spec.securityContext.runAsUser"
    assert str(ctx.provenance["privileged"]) == "runtime default (Docker/containerd)"
