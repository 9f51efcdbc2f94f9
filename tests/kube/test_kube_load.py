"""YAML loading: positions, aliases bounded, duplicates, merges, recovery after a broken document."""

from __future__ import annotations

import time

from secpolicy.kube.load import MAX_ALIAS_NODES, MAX_DEPTH, load
from secpolicy.kube.nodes import Map, Seq


def test_positions_of_keys_and_items() -> None:
    stream = load("a: 1\nb:\n  - x\n  - {c: true}\n")
    (doc,) = stream.documents
    value = doc.value
    assert isinstance(value, Map)
    assert value.at["a"][:2] == (1, 1)
    assert value.at["b"][:2] == (2, 1)
    items = value["b"]
    assert isinstance(items, Seq)
    assert [span[:2] for span in items.at] == [(3, 5), (4, 5)]
    assert items[1]["c"] is True


def test_yaml_1_1_scalars_like_go_yaml() -> None:
    (doc,) = load("a: yes\nb: 'yes'\nc: 0x10\nd: ~\ne: 1.5\nf: 2020-01-01\n").documents
    assert doc.value == {"a": True, "b": "yes", "c": 16, "d": None, "e": 1.5, "f": "2020-01-01"}


def test_multi_document_lines() -> None:
    stream = load("a: 1\n---\nb: 2\n---\n# only a comment\n")
    assert [d.line for d in stream.documents][:2] == [1, 2]
    assert stream.documents[1].value == {"b": 2}


def test_duplicate_key_keeps_last_and_is_recorded() -> None:
    (doc,) = load("x: 1\nx: 2\n").documents
    assert doc.value == {"x": 2}
    assert [(span[0], key) for span, key in doc.duplicates] == [(2, "x")]


def test_merge_keys_apply_where_written_like_go_yaml() -> None:
    # kubectl (go-yaml) merges at the << key: it overrides earlier keys, later keys override it
    after = load("base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n").documents[0].value["m"]
    assert after == {"y": 2, "x": 1}
    before = load("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n").documents[0].value["m"]
    assert before == {"y": 3, "x": 1}
    earlier_wins = load("a: &a {k: 1}\nb: &b {k: 2}\nm:\n  <<: [*a, *b]\n").documents[0].value["m"]
    assert earlier_wins == {"k": 1}
    assert load("b: &b {k: 1}\nm:\n  <<: *b\n  k: 2\n").documents[0].duplicates == []


def test_go_yaml_scalars() -> None:
    (doc,) = load("a: y\nb: N\nc: 0o17\nd: 'y'\ne: 1e3\n").documents
    assert doc.value == {"a": True, "b": False, "c": 15, "d": "y", "e": 1000.0}


def test_crlf_line_endings() -> None:
    stream = load("a: 1\r\n---\r\nb: [\r\n---\r\nc: 3\r\n")
    assert [d.value for d in stream.documents] == [{"a": 1}, {"c": 3}]
    assert stream.documents[1].line == 4


def test_block_scalar_end_is_its_last_line() -> None:
    stream = load("a: |\n  x\n  y\n# after\nb: 1\n")
    assert stream.block_lines == [(1, 3)]


def test_alias_bomb_is_bounded_and_fast() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.perf_counter()
    stream = load("\n".join(lines) + "\n")
    assert time.perf_counter() - start < 2
    (error,) = stream.errors
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in error.message
    assert error.line <= 9


def test_small_aliases_expand() -> None:
    stream = load("a: &x {k: v}\nb: *x\n")
    assert stream.documents[0].value == {"a": {"k": "v"}, "b": {"k": "v"}}


def test_recursive_and_undefined_aliases() -> None:
    assert "recursive alias" in load("a: &a [*a]\n").errors[0].message
    assert "undefined anchor" in load("a: *nope\n").errors[0].message


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    stream = load("x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nesting" in stream.errors[0].message
    assert "nesting" in load("x: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)).errors[0].message


def test_broken_document_does_not_hide_the_next() -> None:
    stream = load("a: 1\n---\nb: [\n---\nc: 3\n")
    assert stream.errors[0].line == 4 or stream.errors[0].line == 3
    assert [d.value for d in stream.documents] == [{"a": 1}, {"c": 3}]


def test_multi_line_scalars_are_recorded() -> None:
    stream = load("a: |\n  # not a comment\n  x\nb: 1\n")
    first, last = stream.block_lines[0]
    assert first == 1
    assert last >= 3


def test_base_60_stays_a_string_and_aliases_scale_with_the_file() -> None:
    assert load("a: 16:40\nb: 1:30.5\n").documents[0].value == {"a": "16:40", "b": "1:30.5"}
    many = "base: &b {k: v, l: w}\n" + "".join(f"m{i}: *b\n" for i in range(40_000))
    stream = load(many)
    assert stream.errors == []
    assert stream.documents[0].value["m39999"] == {"k": "v", "l": "w"}
