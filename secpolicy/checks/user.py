"""Checks on the effective user of the target stage (DF101-DF103)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from secpolicy.checks import container
from secpolicy.checks.base import Hit, Params, is_windows, stage_label
from secpolicy.resolve.dockerfile import Analysis

if TYPE_CHECKING:
    from secpolicy.resolve.kube import ContainerTarget


def _where(analysis: Analysis) -> tuple[int, int]:
    """The USER line that decided the user, else the target's FROM line."""
    target = analysis.target
    inst = target.user_instruction or target.stage.from_
    return inst.line, inst.column


def root(analysis: Analysis | ContainerTarget, params: Params) -> Iterator[Hit]:
    """DF101 / K8S201: the target stage or container runs as uid 0, or its user cannot be resolved."""
    if not isinstance(analysis, Analysis):
        yield from container.root(analysis, params)
        return
    target = analysis.target
    user = analysis.context.user
    line, column = _where(analysis)
    stage = stage_label(target)
    deciding = target.user_instruction
    if not user.known:
        yield Hit(line, f"{stage} may run as root: {user.reason}", column, stage)
    elif user.is_root and deciding is not None:
        raw = deciding.args[0]
        expanded = f" (resolves to {user.spec})" if user.spec != raw else ""
        what = "uid 0" if user.uid == 0 else "the administrator account"
        origin = (
            f"ONBUILD USER {raw} of stage {target.user_onbuild_of}, run when {stage} is built FROM it,"
            if target.user_onbuild_of
            else f"USER {raw}"
        )
        yield Hit(line, f"{stage} runs as root: {origin}{expanded} is {what}", column, stage)
    elif user.is_root:
        yield Hit(line, f"{stage} runs as root: no USER in the stage chain and {user.source}", column, stage)


def named(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF102: the deciding USER names a user instead of giving a numeric uid."""
    target = analysis.target
    user = analysis.context.user
    if target.user_instruction is None or not user.known or user.is_root or user.name is None:
        return
    if is_windows(analysis):
        return  # Windows accounts (ContainerUser) have no uid to give instead
    line, column = _where(analysis)
    hint = f"use the numeric uid ({user.uid})" if user.uid is not None else "use a numeric uid"
    yield Hit(
        line,
        f"USER {user.name} is a name, not a numeric uid: kubelet cannot verify runAsNonRoot; {hint}",
        column,
        stage_label(target),
    )


def root_group(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF103: the deciding USER sets the primary group to 0 explicitly."""
    target = analysis.target
    user = analysis.context.user
    if target.user_instruction is None or not user.known or user.is_root or not user.explicit_root_group:
        return
    if is_windows(analysis):
        return
    line, column = _where(analysis)
    yield Hit(
        line,
        f"USER {user.spec} sets primary group {user.group} (gid 0): files owned by the root group become writable",
        column,
        stage_label(target),
    )


def passwordless_sudo(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF105: the target's non-root USER may run anything as root with no password (NOPASSWD sudo)."""
    target = analysis.target
    user = analysis.context.user
    if not user.known or user.is_root:
        return
    # the user's names: its own, and those of accounts made with its uid
    names = {a.name for a in target.accounts.values() if user.uid is not None and a.uid == user.uid}
    if user.name is not None:
        names.add(user.name)
    groups = {g for name in names if name in target.accounts for g in target.accounts[name].groups}
    if user.group:
        groups.add(user.group)
    for state in target.chain():
        for rule in state.sudo_rules:
            who = rule.who
            if who is None:
                covered = f"the sudoers rule '{rule.raw}' (its user is a variable without a known value) may cover it"
            elif who == "ALL" or who in names or (user.uid is not None and who == f"#{user.uid}"):
                covered = f"the sudoers rule '{rule.raw}' lets it run any command as root"
            elif who.startswith("%") and who[1:] in groups:
                covered = f"it is in group {who[1:]}, and the sudoers rule '{rule.raw}' lets that group run any command as root"
            else:
                continue
            line, column = _where(analysis)
            yield Hit(
                line,
                f"{stage_label(target)} runs as {user.spec or user.name} but is root in all but name: {covered} "
                f"without a password (line {rule.line}); remove the NOPASSWD rule",
                column,
                stage_label(target),
            )
            return
