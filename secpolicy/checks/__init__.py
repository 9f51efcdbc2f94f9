"""The check registry: every check a rule file may name, in one explicit table."""

from __future__ import annotations

from secpolicy.checks import container, context, pss, run_steps, secrets, user
from secpolicy.checks.base import Check, CheckDef, Hit, NoParams, Params
from secpolicy.targets import Kind

_STAGE = frozenset({Kind.DOCKERFILE})
_POD = frozenset({Kind.POD})
_CONTAINER = frozenset({Kind.CONTAINER})
_CONTEXT = frozenset({Kind.CONTEXT})

CHECKS: dict[str, CheckDef] = {
    "run.insecure_build": CheckDef(run_steps.insecure_build, _STAGE),
    "run.privilege_tool": CheckDef(run_steps.privilege_tool, _STAGE, run_steps.PrivilegeToolParams),
    "run.setcap": CheckDef(run_steps.setcap, _STAGE),
    "run.setuid": CheckDef(run_steps.setuid, _STAGE),
    "secrets.copied_file": CheckDef(secrets.copied_file, _STAGE),
    "secrets.env_arg": CheckDef(secrets.env_arg, _STAGE),
    "user.named": CheckDef(user.named, _STAGE),
    "user.passwordless_sudo": CheckDef(user.passwordless_sudo, _STAGE),
    "user.root": CheckDef(user.root, _STAGE | _CONTAINER),
    "pss.control": CheckDef(pss.control, _POD, pss.ControlParams),
    "capabilities.dangerous": CheckDef(container.dangerous, _CONTAINER, container.DangerousParams),
    "capabilities.net_raw": CheckDef(container.net_raw, _CONTAINER),
    "container.root_group": CheckDef(container.root_group, _CONTAINER),
    "container.writable_rootfs": CheckDef(container.writable_rootfs, _CONTAINER),
    "container.env_secret": CheckDef(container.env_secret, _CONTAINER),
    "container.refused": CheckDef(container.refused, _CONTAINER),
    "context.no_ignore_file": CheckDef(context.no_ignore_file, _CONTEXT),
    "context.secret_sent": CheckDef(context.sent, _CONTEXT),
    "context.secret_copied": CheckDef(context.copied, _CONTEXT),
    "context.invalid_ignore_file": CheckDef(context.invalid_ignore_file, _CONTEXT),
    "context.ambiguous_order": CheckDef(context.ambiguous_order, _CONTEXT),
    "context.bloat": CheckDef(context.bloat, _CONTEXT, context.BloatParams),
    "user.root_group": CheckDef(user.root_group, _STAGE),
}

# Findings the engine itself reports (they have rule files but no check function).
ENGINE_CHECKS = frozenset({"engine.parse_error", "engine.invalid_suppression", "engine.duplicate_key"})

__all__ = ["CHECKS", "ENGINE_CHECKS", "Check", "CheckDef", "Hit", "NoParams", "Params"]
