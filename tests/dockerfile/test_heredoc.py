"""Heredoc facts from BuildKit's parser_heredoc_test.go, re-expressed as data."""

from __future__ import annotations

import pytest

from secpolicy.dockerfile.syntax import DockerfileSyntaxError, _heredoc_from_word, _heredocs_from_line, parse

DOCKERFILE = """
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-EXPAND
\texpand $NAME
EXPAND

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<X <<Y /dest
Y
X
X
Y
\t"""

# (name, content, expand, chomp, fd) per instruction after FROM; None: no heredoc
EXPECTED: list[list[tuple[str, str, bool, bool, int]] | None] = [
    None,  # ENV
    None,  # RUN ls
    None,  # USER <<INVALID (USER cannot take a heredoc)
    None,  # INVALID (an instruction of its own)
    [("EMPTY", "", True, False, 0)],
    [("EMPTY2", "", True, False, 3)],
    None,  # RUN "<<NOHEREDOC"
    [("INDENT", "\tfoo\n\tbar\n", True, False, 0)],
    [("UNINDENT", "\tbaz\n\tquux\n", True, True, 0)],
    [("UNINDENT2", "\tbaz\n\tquux\n", True, True, 0)],
    [("EXPAND", "\texpand $NAME\n", True, True, 0)],
    [("NOEXPAND", "\tdon't expand $NAME\n", False, True, 0)],
    [("COPY", "echo hello world\necho foo bar\n", True, False, 0)],
    [("COMMENT", "# internal comment\necho hello world\necho foo bar # trailing comment\n", True, False, 0)],
    [("MOUNT", "echo hello\n", True, False, 0)],
    [("FILE1", "content 1\n", True, False, 0), ("FILE2", "content 2\n", True, False, 0)],
    [("X", "Y\n", True, False, 0), ("Y", "X\n", True, False, 0)],
]


def test_heredocs_extracted() -> None:
    nodes = parse(DOCKERFILE).nodes
    assert len(nodes) == len(EXPECTED) + 1
    for node, expected in zip(nodes[1:], EXPECTED, strict=True):
        got = [(h.name, h.content, h.expand, h.chomp, h.fd) for h in node.heredocs]
        assert got == (expected or []), node.original


def test_json_form_has_no_heredoc() -> None:
    nodes = parse('FROM alpine\nRUN ["whoami"]\nRUN ["<<EOF"]\nRUN ["<<\'EOF\'"]\n').nodes
    assert all(n.heredocs == [] for n in nodes)


@pytest.mark.parametrize("word", ["<<EOF", "<<'EOF'", '<<"EOF"', "<<-EOF", "<<-'EOF'", '<<-"EOF"'])
def test_valid_heredoc_words(word: str) -> None:
    doc = _heredoc_from_word(word)
    assert doc is not None
    assert doc.name == "EOF"


@pytest.mark.parametrize("word", ["", "EOF", "<<", "<<-", "<EOF", "<<<EOF"])
def test_not_heredoc_words(word: str) -> None:
    assert _heredoc_from_word(word) is None


@pytest.mark.parametrize("word", ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"'])
def test_invalid_heredoc_words(word: str) -> None:
    with pytest.raises(ValueError, match="unexpected end"):
        _heredoc_from_word(word)


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("RUN <<EOF", ["EOF"]),
        ("RUN <<-EOF", ["EOF"]),
        ("RUN <<'EOF'", ["EOF"]),
        ("RUN 4<<EOF", ["EOF"]),
        ("RUN <<EOF <<EOF2", ["EOF", "EOF2"]),
        ("RUN '<<EOF'", []),
        ('RUN "<<EOF"', []),
        ("RUN cat << EOF", []),
    ],
)
def test_heredocs_from_line(line: str, names: list[str]) -> None:
    assert [h.name for h in _heredocs_from_line(line, 1)] == names


def test_unterminated_heredoc_is_an_error_with_line() -> None:
    with pytest.raises(DockerfileSyntaxError) as info:
        parse("FROM alpine\n\nRUN <<EOF\necho x\n")
    assert info.value.line == 3
    assert "unterminated heredoc" in info.value.message


def test_heredoc_body_lines_are_not_instructions() -> None:
    nodes = parse("FROM alpine\nRUN <<EOF\nsudo apk add x\nUSER root\nEOF\nUSER 1000\n").nodes
    assert [n.cmd for n in nodes] == ["from", "run", "user"]
    assert nodes[1].heredocs[0].line == 3
    assert nodes[2].line == 6


def test_onbuild_heredoc() -> None:
    nodes = parse("FROM alpine\nONBUILD RUN <<EOF\necho hi\nEOF\n").nodes
    assert nodes[1].child is not None
    assert [h.content for h in nodes[1].child.heredocs] == ["echo hi\n"]
