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


def test_merge_keys_explicit_wins() -> None:
    (_, _doc) = load("base: &b {x: 1, y: 2}\n---\n").documents[0], None
    stream = load("base: &b {x: 1, y: 2}\nm:\n  y: 3\n  <<: *b\n")
    assert stream.documents[0].value["m"] == {"y": 3, "x": 1}


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
