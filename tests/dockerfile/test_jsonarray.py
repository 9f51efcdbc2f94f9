"""The JSON form as Go's json.Unmarshal reads it, without recursion."""

from __future__ import annotations

import json
import random

import pytest

from secpolicy.dockerfile import jsonarray


def _reference(text: str) -> object:
    """What BuildKit does, for inputs shallow enough for Python's decoder: list, 'error' or None (shell form)."""
    try:
        value = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    return value if all(isinstance(v, str) for v in value) else "error"


def _ours(text: str) -> object:
    try:
        return jsonarray.parse(text)
    except jsonarray.NotStringArray:
        return "error"


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_a_json_decoder_on_random_text(seed: int) -> None:
    rng = random.Random(seed)
    atoms = ['"a"', '"b c"', "1", "true", "null", "[", "]", "{", "}", ",", ":", " ", '"k"', "x", "NaN"]
    for _ in range(3000):
        text = "[" + "".join(rng.choice(atoms) for _ in range(rng.randint(0, 8)))
        assert _ours(text) == _reference(text), text


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ('["a"] trailing', None),  # Go: "invalid character after top-level value": shell form
        ('["a"] \t', ["a"]),
        ("[" * 5_000 + "]" * 5_000, "error"),  # valid, not strings
        ("[" * 10_001 + "]" * 10_001, None),  # past Go's depth limit: a syntax error, so shell form
        ('["\\u00e9"]', ["é"]),
        ('["a\tb"]', None),  # a control character inside a string
    ],
)
def test_go_specifics(text: str, want: object) -> None:
    assert _ours(text) == want
