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
    text = "FROM alpine\n# secpolicy: ignore=DF104 reason=build only\nRUN sudo a\nRUN sudo b\nUSER 1\n"
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
    text = "FROM alpine\n# secpolicy: ignore=DF999,DF102 reason=x\nUSER app\n"
    got = sorted((f.rule, f.suppressed) for f in findings(rules, text))
    assert got == [("DF102", True), ("SP002", False)]


def test_multi_key_env_suppression_is_per_instruction(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF301 reason=test value\nENV PASSWORD=hunter2x\nENV TOKEN=s3cr3tv4lue\nUSER 1\n"
    got = [(f.line, f.suppressed) for f in findings(rules, text)]
    assert got == [(3, True), (4, False)]


def test_reason_is_required(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF102\nUSER app\n"
    got = sorted((f.rule, f.suppressed, f.message) for f in findings(rules, text))
    assert [(r, s) for r, s, _ in got] == [("DF102", False), ("SP002", False)]
    assert "no reason" in got[1][2]


def test_key_granular_suppression_on_a_multi_key_env(rules) -> None:
    text = "FROM alpine\n# secpolicy: ignore=DF301:DB_PASSWORD reason=test value\nENV DB_PASSWORD=hunter2x API_TOKEN=s3cr3tv4lue\nUSER 1\n"
    got = sorted((f.message.split()[1], f.suppressed) for f in findings(rules, text) if f.rule == "DF301")
    assert got == [("API_TOKEN", False), ("DB_PASSWORD", True)]
    # a plain rule id covers every key of the instruction
    text = "FROM alpine\n# secpolicy: ignore=DF301 reason=test values\nENV DB_PASSWORD=hunter2x API_TOKEN=s3cr3tv4lue\nUSER 1\n"
    assert all(f.suppressed for f in findings(rules, text) if f.rule == "DF301")


def test_pragma_in_a_heredoc_body_is_not_a_suppression(rules) -> None:
    text = (
        "FROM alpine\nRUN <<EOF\n# secpolicy: ignore-file=DF101 reason=planted\necho hi\nEOF\n"
        "COPY <<EOF /etc/motd\n# secpolicy: ignore-file=DF101 reason=planted\nEOF\nUSER root\n"
    )
    [finding] = findings(rules, text)
    assert (finding.rule, finding.suppressed) == ("DF101", False)


def test_pragma_inside_a_continued_instruction_or_json_array_is_not_a_suppression(rules) -> None:
    for middle in (
        'CMD ["sh", \\\n# secpolicy: ignore-file=DF101 reason=planted\n"-c", "x"]\n',
        "RUN echo a \\\n  # secpolicy: ignore-file=DF101 reason=planted\n  && echo b\n",
        "RUN echo a # secpolicy: ignore-file=DF101 reason=planted\n",
        "LABEL a=b \\\n# secpolicy: ignore-file=DF101 reason=planted\n c=d\n",
    ):
        text = "FROM alpine\n" + middle + "USER root\n"
        got = [(f.rule, f.suppressed) for f in findings(rules, text)]
        assert got == [("DF101", False)], middle


def test_rule_ids_with_digits_in_the_prefix_are_read(rules) -> None:
    from secpolicy.suppress import scan

    result = scan([(1, "# secpolicy: ignore=K8S201 reason=x")], {"K8S201"})
    assert result.problems == []
    assert result.before[2] == {"K8S201": [(None, "x")]}


def test_long_runs_of_spaces_stay_linear(rules) -> None:
    import time

    text = "FROM alpine\n# secpolicy: ignore=DF101" + " " * 200_000 + "x\nUSER 0\n"
    started = time.perf_counter()
    findings(rules, text)
    assert time.perf_counter() - started < 5
