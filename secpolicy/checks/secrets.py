"""Checks for secrets written into a Dockerfile or copied into an image (DF301, DF302)."""

from __future__ import annotations

from collections.abc import Iterator

from secpolicy import secrets
from secpolicy.checks.base import Hit, Params, stage_label
from secpolicy.resolve.dockerfile import Analysis


def env_arg(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF301: ENV/ARG with a secret-like name and a value, or a known token."""
    for state in analysis.target.chain():
        for assign in state.assignments:
            raw = assign.raw
            if not raw:
                continue
            inst = assign.instruction
            where = f"{assign.kind} {assign.name} in {stage_label(state)}"
            token = secrets.find_token(raw)
            if token is None and assign.value is not None and assign.value.resolved:
                token = secrets.find_token(assign.value.value)
            if token is not None:
                yield Hit(
                    inst.line, f"{where} holds a secret: {token.name}", inst.column, stage_label(state), assign.name
                )
            elif secrets.is_secret_name(assign.name) and raw.strip("\"'"):
                how = "a value" if assign.kind == "ENV" else "a default value"
                if "$" in raw:
                    how = f"the value {raw} (a build argument now kept in the image)"
                persists = (
                    "it is stored in the image config"
                    if assign.kind == "ENV"
                    else "it is recorded in the image history"
                )
                yield Hit(
                    inst.line,
                    f"{where} has a secret-like name and {how}: {persists}; use a build secret (RUN --mount=type=secret)",
                    inst.column,
                    stage_label(state),
                    assign.name,
                )


def copied_file(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF302: COPY/ADD names a secret-like file from the build context."""
    for state in analysis.reachable:
        for inst in state.stage.instructions:
            if inst.cmd not in ("copy", "add") or inst.flag("from") is not None:
                continue
            expanded = state.expanded.get(id(inst), [])
            sources = [e.value for e in expanded[:-1]]
            for src in sources:
                if "://" in src or src.startswith("git@"):
                    continue
                reason = secrets.secret_file_reason(src)
                if reason:
                    yield Hit(
                        inst.line,
                        f"{inst.keyword} {src} in {stage_label(state)} copies a secret into the image: {reason}",
                        inst.column,
                        stage_label(state),
                    )
