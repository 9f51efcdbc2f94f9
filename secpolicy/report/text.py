"""Human-readable output: ``path:line:col: ID message``, grouped per file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from secpolicy.model import EffectiveContext, Finding, Severity
from secpolicy.report import RenderOptions, Report

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.NOTE: "36"}


def _paint(text: str, code: str, color: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if color else text


def render(report: Report, options: RenderOptions) -> str:
    return findings(
        report.findings, report.files, report.errors, color=options.color, show_suppressed=options.show_suppressed
    )


def findings(
    items: Sequence[Finding], files: int, errors: Sequence[str], *, color: bool, show_suppressed: bool = False
) -> str:
    out: list[str] = []
    visible = [f for f in items if show_suppressed or not f.suppressed]
    for _, group in groupby(visible, key=lambda f: f.path):
        for f in group:
            location = _paint(f"{f.path}:{f.line}:{f.column}:", "1", color)
            rule = _paint(f.rule, _COLORS[f.severity], color)
            note = " (suppressed)" if f.suppressed else ""
            out.append(f"{location} {rule} [{f.severity.label}] {f.message}{note}")
        out.append("")
    for error in errors:
        out.append(_paint(f"error: {error}", "31", color))
    counts = Counter(f.severity for f in items if not f.suppressed)
    suppressed = sum(1 for f in items if f.suppressed)
    with_findings = len({f.path for f in items if not f.suppressed})
    total = sum(counts.values())
    if total:
        parts = ", ".join(f"{counts[s]} {s.label}{'s' if counts[s] != 1 else ''}" for s in sorted(counts, reverse=True))
        summary = f"Found {total} finding{'s' if total != 1 else ''} ({parts}) in {with_findings} of {files} file{'s' if files != 1 else ''}."
    else:
        summary = f"No findings in {files} file{'s' if files != 1 else ''}."
    if suppressed:
        summary += f" {suppressed} suppressed."
    out.append(summary)
    return "\n".join(out) + "\n"


def contexts(items: Sequence[EffectiveContext]) -> str:
    out: list[str] = []
    for ctx in items:
        user = ctx.user
        if user.known:
            uid = "?" if user.uid is None else str(user.uid)
            gid = "?" if user.gid is None else str(user.gid)
            name = f" ({user.name})" if user.name else ""
            value = f"uid={uid} gid={gid}{name}"
        else:
            value = f"unknown: {user.reason}"
        caps = ctx.capabilities
        held = "unknown (depends on the user)" if caps.effective is None else (",".join(caps.effective) or "none")
        if user.groups:
            value += f" groups={','.join(str(g) for g in user.groups)}"
        rows = [
            ("user", value, ctx.provenance.get("user")),
            ("capabilities", held, ctx.provenance.get("capabilities")),
            ("bounding set", ",".join(caps.bounding) or "none", None),
            ("privileged", str(ctx.privileged).lower(), ctx.provenance.get("privileged")),
            ("no_new_privs", str(ctx.no_new_privs).lower(), ctx.provenance.get("no_new_privs")),
            ("seccomp", ctx.seccomp, ctx.provenance.get("seccomp")),
        ]
        if ctx.kind == "container" or ctx.run_as_non_root is not None:
            shown = "not set" if ctx.run_as_non_root is None else str(ctx.run_as_non_root).lower()
            rows.append(("runAsNonRoot", shown, ctx.provenance.get("run_as_non_root")))
        if ctx.kind == "container":
            rows.append(("read-only fs", str(ctx.read_only_rootfs).lower(), ctx.provenance.get("read_only_rootfs")))
        if ctx.kind == "container":
            rows.append(("apparmor", ctx.apparmor or "", ctx.provenance.get("apparmor")))
        if ctx.selinux:
            rows.append(("selinux", ctx.selinux, ctx.provenance.get("selinux")))
        if ctx.proc_mount is not None and ctx.proc_mount != "Default":
            rows.append(("procMount", ctx.proc_mount, ctx.provenance.get("proc_mount")))
        if ctx.user_namespace:
            rows.append(("user ns", "yes (hostUsers: false)", ctx.provenance.get("user_namespace")))
        if ctx.host_namespaces:
            rows.append(("host", ",".join(ctx.host_namespaces), ctx.provenance.get("host_namespaces")))
        if ctx.start_error:
            rows.append(("will not start", ctx.start_error, ctx.provenance.get("start_error")))
        out.append(f"{ctx.path} [{ctx.target}]")
        for key, val, src in rows:
            out.append(f"  {key:<13} {val}" + (f"  <- {src}" if src else ""))
        out.append("")
    return "\n".join(out)
