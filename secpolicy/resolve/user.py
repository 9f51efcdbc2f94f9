"""USER values: ``user[:group]`` to uid/gid, the way runc reads them."""

from __future__ import annotations

import re

from secpolicy.model import EffectiveUser, Provenance

# runc reads a numeric user with Go's strconv.Atoi: an optional sign, then
# ASCII digits ("00", "+0" and "-0" are all uid 0), within the range of a
# 64-bit int; anything else is looked up as a name.
_NUMERIC = re.compile(r"[+-]?([0-9]+)")
_INT64_MAX = 2**63 - 1


def numeric(text: str) -> int | None:
    match = _NUMERIC.fullmatch(text)
    if match is None:
        return None
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > 19:
        return None  # out of range for Atoi (and past int()'s digit limit long before 5,000 digits)
    value = int(text)
    return value if -_INT64_MAX - 1 <= value <= _INT64_MAX else None


def parse_user(
    spec: str,
    source: Provenance,
    created: dict[str, tuple[int | None, int | None]] | None = None,
) -> EffectiveUser:
    """``spec`` is the expanded USER value; ``created`` maps names made by useradd."""
    user, colon, group = spec.partition(":")
    created = created or {}
    uid = numeric(user)
    name: str | None = None
    gid: int | None = None
    if uid is None:
        name = user
        if user == "root":
            uid, gid = 0, 0
        elif user in created:
            uid, gid = created[user]
    if colon:
        gid = numeric(group)
        if gid is None and group == "root":
            gid = 0
    elif uid is not None and name is None and uid not in {u for u, _ in created.values()}:
        # Dockerfile reference: a user without a primary group runs with gid 0.
        gid = 0
    return EffectiveUser(
        uid=uid,
        gid=gid,
        name=name,
        known=True,
        source=source,
        spec=spec,
        group=group if colon else None,
    )
