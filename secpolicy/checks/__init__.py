"""The check registry: every check a rule file may name, in one explicit table."""

from __future__ import annotations

from secpolicy.checks import run_steps, secrets, user
from secpolicy.checks.base import Check, Hit, Params

CHECKS: dict[str, Check] = {
    "run.insecure_build": run_steps.insecure_build,
    "run.privilege_tool": run_steps.privilege_tool,
    "run.setcap": run_steps.setcap,
    "run.setuid": run_steps.setuid,
    "secrets.copied_file": secrets.copied_file,
    "secrets.env_arg": secrets.env_arg,
    "user.named": user.named,
    "user.passwordless_sudo": user.passwordless_sudo,
    "user.root": user.root,
    "user.root_group": user.root_group,
}

# Findings the engine itself reports (they have rule files but no check function).
ENGINE_CHECKS = frozenset({"engine.parse_error", "engine.invalid_suppression"})

__all__ = ["CHECKS", "ENGINE_CHECKS", "Check", "Hit", "Params"]
