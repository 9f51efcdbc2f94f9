"""Shell patterns in ${VAR#p}, ${VAR%p}, ${VAR/p/r}: BuildKit's semantics, in linear time."""

from __future__ import annotations

import random
import re
import time

import pytest

from secpolicy.dockerfile import pattern
from secpolicy.dockerfile.pattern import PatternError, compile_pattern, replace, trim_prefix, trim_suffix


def _reference_regex(pat: str, greedy: bool) -> re.Pattern[str]:
    """What BuildKit's convertShellPatternToRegex builds, for Python's engine (same leftmost-first semantics)."""
    p = compile_pattern(pat, greedy)
    star = "[^\n]*" if greedy else "[^\n]*?"
    return re.compile("".join(re.escape(c) if k == "lit" else "[^\n]" if k == "any" else star for k, c in p.atoms))


@pytest.mark.parametrize("seed", range(8))
def test_pike_vm_agrees_with_a_backtracking_engine(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        pat = "".join(rng.choice("ab*?*") for _ in range(rng.randint(0, 6)))
        text = "".join(rng.choice("ab\nab") for _ in range(rng.randint(0, 12)))
        for greedy in (True, False):
            rx = _reference_regex(pat, greedy)
            p = compile_pattern(pat, greedy)
            for start in range(len(text) + 1):
                want = rx.search(text, start)
                assert pattern._pike(p, text, start, False) == (want.span() if want else None), (pat, text, start)
                want = rx.match(text, start)
                assert pattern._pike(p, text, start, True) == (want.span() if want else None), (pat, text, start)


def test_trim_and_replace_like_buildkit() -> None:
    assert trim_prefix("*/", "a/b/c", False) == "b/c"
    assert trim_prefix("*/", "a/b/c", True) == "c"
    assert trim_suffix(".*", "x.tar.gz", False) == "x.tar"
    assert trim_suffix(".*", "x.tar.gz", True) == "x"
    assert trim_suffix("\\*", "a*", False) == "a"
    assert replace("a", "banana", "o", True) == "bonono"
    assert replace("a", "banana", "o", False) == "bonana"
    assert replace("a*", "banana", "o", False) == "bo"
    assert replace("", "ab", "-", True) == "-a-b-"
    assert replace("x*", "abxd", "-", True) == "ab-"
    assert replace("?", "a\nb", "-", True) == "-\n-"


@pytest.mark.parametrize("bad", ["\\a", "a\\", "\\["])
def test_invalid_escape(bad: str) -> None:
    with pytest.raises(PatternError, match="invalid escape"):
        compile_pattern(bad, True)


def test_escaped_brace_and_slash_are_literal() -> None:
    assert [c for _, c in compile_pattern("\\}\\/", True).atoms] == ["}", "/"]


def test_many_stars_stay_linear() -> None:
    value = "ab" * 20_000
    started = time.perf_counter()
    assert replace("*a*b*a*b*c", value, "x", True) == value
    assert trim_prefix("*a*b*a*b*c", value, True) == value
    assert time.perf_counter() - started < 20  # a backtracking engine needs hours here
