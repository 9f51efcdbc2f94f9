"""Checks for secrets written into a Dockerfile or copied into an image (DF301, DF302)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator

from secpolicy import secrets
from secpolicy.checks.base import Hit, Params, stage_label
from secpolicy.dockerfile.instructions import Instruction
from secpolicy.resolve.dockerfile import Analysis, Assignment, StageState


def _assignment_hit(assign: Assignment, state: StageState | None, in_image: bool) -> Hit | None:
    """``state`` is None for a global ARG (before the first FROM)."""
    raw = assign.raw
    if raw is None:
        return None
    inst = assign.instruction
    prefix = "ONBUILD " if assign.onbuild_of else ""
    stage = stage_label(state) if state is not None else None
    where = f"{prefix}{assign.kind} {assign.name} " + (f"in {stage}" if stage else "before the first FROM")
    expanded = (
        assign.value.value if assign.value is not None and assign.value.resolved and not assign.value.unset else None
    )
    token = secrets.find_token(raw) or (secrets.find_token(expanded) if expanded else None)
    if token is not None:
        return Hit(inst.line, f"{where} holds a secret: {token.name}", inst.column, stage, assign.name)
    if not secrets.is_secret_name(assign.name):
        return None
    # a variable reference is judged by what it expands to; unknown is no literal secret
    value = raw if "$" not in raw else expanded
    if value is None or secrets.not_secret_value_reason(assign.name, value) is not None:
        return None
    how = "a value" if assign.kind == "ENV" else "a default value"
    if "$" in raw:
        how = f"the value {raw} (expands to a literal)"
    if stage is None:
        persists = "every stage that declares it records it in its history"
    elif in_image:
        persists = "it is stored in the image config" if assign.kind == "ENV" else "it is recorded in the image history"
    else:
        persists = f"it is recorded in the build history and cache of {stage}"
    return Hit(
        inst.line,
        f"{where} has a secret-like name and {how}: {persists}; use a build secret (RUN --mount=type=secret)",
        inst.column,
        stage,
        assign.name,
    )


def _texts(inst: Instruction) -> Iterator[tuple[str, Callable[[int], int]]]:
    node = inst.node
    yield node.original, node.line_at
    child = inst.onbuild
    for doc in child.heredocs if child is not None else inst.heredocs:
        yield doc.content, doc.line_at


def _token_hits(inst: Instruction, where: str, stage: str | None) -> Iterator[Hit]:
    """A known token format anywhere in an instruction's text or heredoc bodies (once per instruction)."""
    for text, line_of in _texts(inst):
        found = secrets.find_token_at(text)
        if found is not None:
            pattern, offset = found
            yield Hit(
                line_of(offset), f"{where} contains a secret: {pattern.name}", 1, stage, f"{where}: {pattern.name}"
            )
            return


def _onbuild_assignments(inst: Instruction, stage: str) -> Iterator[Assignment]:
    """ENV/ARG of an ONBUILD trigger, as written (they run, and expand, in the stages built from this one)."""
    child = inst.onbuild
    if child is None or child.cmd not in ("env", "arg"):
        return
    if child.cmd == "env":
        for key, value in child.pairs():
            yield Assignment(inst, "ENV", key, value, None, onbuild_of=stage)
    else:
        for word in child.args:
            name, eq, default = word.partition("=")
            if eq:
                yield Assignment(inst, "ARG", name, default, None, onbuild_of=stage)


def env_arg(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF301: ENV/ARG with a secret-like name and a literal value, or a known token anywhere."""
    in_image = set(analysis.target.chain())
    for state in analysis.reachable:
        for assign in state.assignments:
            if assign.onbuild_of is not None:
                continue  # reported at the ONBUILD line of the stage that declares it
            hit = _assignment_hit(assign, state, state in in_image)
            if hit is not None:
                yield hit
        for inst in state.stage.instructions:
            child = inst.onbuild
            if child is not None and child.cmd in ("env", "arg"):
                # the trigger's ENV lands in the config of every image built FROM this one
                for assign in _onbuild_assignments(inst, state.label):
                    hit = _assignment_hit(assign, state, True)
                    if hit is not None:
                        yield hit
                continue
            if inst.cmd in ("env", "arg"):
                continue  # judged per key above
            keyword = f"ONBUILD {child.keyword}" if child is not None else inst.keyword
            yield from _token_hits(inst, f"{keyword} in {stage_label(state)}", stage_label(state))
    for inst in analysis.dockerfile.meta_args:
        for word in inst.args:
            name, eq, default = word.partition("=")
            hit = _assignment_hit(Assignment(inst, "ARG", name, default if eq else None, None), None, False)
            if hit is not None:
                yield hit


def _landing(dest: str, source: str, several: bool) -> str:
    """Where a COPY/ADD source lands: inside ``dest`` when it is a directory."""
    if dest.endswith("/") or several:
        return posixpath.join(dest, posixpath.basename(source.rstrip("/")))
    return dest


def copied_file(analysis: Analysis, params: Params) -> Iterator[Hit]:
    """DF302: COPY/ADD of a secret-like file, or of anything to a credentials location."""
    for state in analysis.reachable:
        for inst in state.stage.instructions:
            if inst.cmd not in ("copy", "add"):
                continue
            expanded = state.expanded.get(inst, [])
            if not expanded:
                continue
            dest = expanded[-1].value
            sources = [e.value for e in expanded[:-1]]
            heredocs = {doc.name for doc in inst.heredocs}
            several = len(sources) > 1
            from_context = inst.flag("from") is None
            for src in sources:
                if "://" in src or src.startswith("git@"):
                    continue
                name = src[2:].lstrip("-") if src.startswith("<<") else src
                reason = secrets.secret_file_reason(src) if from_context and name not in heredocs else None
                what = f"{inst.keyword} {src} in {stage_label(state)}"
                if reason:
                    yield Hit(
                        inst.line,
                        f"{what} copies a secret into the image: {reason}",
                        inst.column,
                        stage_label(state),
                        src,
                    )
                    continue
                landing = _landing(dest, name, several)
                where = secrets.secret_file_reason(landing) if "/" in landing else None
                if where:
                    yield Hit(
                        inst.line,
                        f"{what} writes {landing}, a credentials location ({where}): the image ships it",
                        inst.column,
                        stage_label(state),
                        landing,
                    )
