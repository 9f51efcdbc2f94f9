from __future__ import annotations

from secpolicy.engine import Engine, LintOptions


def findings(rules, text: str):
    return Engine(rules, LintOptions()).lint_text(text, "Dockerfile").findings


def test_line_suppression_keeps_finding_marked(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF102 reason=mapped by the platform\nUSER app\n"
    [finding] = findings(rules, text)
    assert finding.rule == "DF102"
    assert finding.suppressed
    assert finding.suppression == "mapped by the platform"
    assert finding.to_json()["suppression"] == {"reason": "mapped by the platform"}


def test_suppression_covers_only_the_next_instruction(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF104\nRUN sudo a\nRUN sudo b\nUSER 1\n"
    got = [(f.line, f.suppressed) for f in findings(rules, text) if f.rule == "DF104"]
    assert got == [(3, True), (4, False)]


def test_suppression_spans_a_comment_block_and_a_multiline_instruction(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF104 reason=legacy\n# more words\nRUN true \\\n && sudo x\nUSER 1\n"
    [finding] = [f for f in findings(rules, text) if f.rule == "DF104"]
    assert finding.line == 5
    assert finding.suppressed


def test_file_suppression(rules) -> None:
    text = "# secpolicy: ignore-file=DF101 reason=base image runs as app\nFROM node:20\n"
    [finding] = findings(rules, text)
    assert finding.rule == "DF101"
    assert finding.suppressed


def test_unknown_rule_is_sp002_and_does_not_suppress(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF999,DF102\nUSER app\n"
    got = sorted((f.rule, f.suppressed) for f in findings(rules, text))
    assert got == [("DF102", True), ("SP002", False)]


def test_multi_key_env_suppression_is_per_instruction(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF301 reason=test value\nENV PASSWORD=a\nENV TOKEN=b\nUSER 1\n"
    got = [(f.line, f.suppressed) for f in findings(rules, text)]
    assert got == [(3, True), (4, False)]
