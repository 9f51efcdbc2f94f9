"""Backslash escapes in .dockerignore patterns, read as Go's regexp/syntax reads them.

patternmatcher passes ``\\x`` of a pattern through to its Go regexp, so a
pattern can hold any RE2 escape; "{" is always escaped by the glob
compiler, so only one-letter forms occur.  Each case names the Go rule
(``regexp/syntax/parse.go``) that decides it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secpolicy.context.ignore import IgnoreError, Pattern, PatternMatcher

FAILS, UNJUDGED = "the build fails", "not judged"

CASES = [
    ("\\*", "*", True),  # escaped punctuation is itself
    ("a\\.b", "a.b", True),
    ("\\d", "1", True),  # Perl classes are ASCII in RE2
    ("\\d", "\u0661", False),
    ("\\w*", "a_1", True),
    ("\\s", " ", True),
    ("\\s", "\v", False),  # RE2's \s is [\t\n\f\r ]: no vertical tab, unlike Python's
    ("\\S", "\v", True),
    ("[\\s]", "\t", True),
    ("\\x41", "A", True),  # \xHH
    ("\\x4", "A", FAILS),
    ("\\101", "A", True),  # octal, up to three digits
    ("\\12", "\n", True),  # octal in RE2 (Python would read a group reference)
    ("\\0", "\x00", True),
    ("\\1", "1", FAILS),  # a single digit is a backreference: RE2 has none
    ("\\8", "8", FAILS),
    ("\\t", "\t", True),
    ("\\a", "\x07", True),
    ("a\\z", "a", True),  # \z is the end of the text
    ("\\Aa", "a", True),
    ("a\\b", "a", True),  # a word boundary at the end
    ("\\Z", "Z", FAILS),  # Python knows \Z, RE2 does not
    ("\\u0041", "A", FAILS),
    ("x\\C", "xC", FAILS),  # RE2 refuses \C
    ("[\\b]", "\b", FAILS),  # no \b inside a class in RE2 (a backspace in Python)
    ("\\é", "é", FAILS),  # only ASCII punctuation may be escaped
    ("\\Qa.b\\E", "a\\.b", True),  # \Q...\E is literal: the glob compiler's own "\." included
    ("\\Qa.b\\E", "a.b", False),
    ("*a*a*\\Q.*", "xaa\\.[^/]*$zzz", True),  # no \E: the literal swallows the final "$"
    ("[[:^digit:]]", "a", True),  # a negated POSIX class
    ("[[:^digit:]]", "1", False),
    ("[^[:^digit:]]", "1", True),
    ("[[:bogus:]]", "a", FAILS),
    ("\\pL", "a", UNJUDGED),  # Unicode categories: Go takes them, secpolicy does not match them
    ("\\PN", "a", UNJUDGED),
    ("\\pX", "a", FAILS),  # no such category
    ("[a[:^digit:]]", "b", UNJUDGED),
    ("[a\\S]", "b", UNJUDGED),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), CASES)
def test_escape(pattern: str, path: str, expected: object) -> None:
    matcher = PatternMatcher([pattern])  # the syntax check of filepath.Match passes all of these
    if expected in (FAILS, UNJUDGED):
        with pytest.raises(IgnoreError) as caught:
            matcher.matches_or_parent_matches(path)
        assert caught.value.build_fails is (expected == FAILS)
    else:
        assert matcher.matches_or_parent_matches(path)[0] is expected


PIECES = ["*", "a", "b", ".", "\\d", "\\w", "\\s", "\\x61", "\\141", "\\Qa.\\E", "?", "[ab]", "[^a]", "**/"]


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(st.sampled_from(PIECES), min_size=1, max_size=9), path=st.text("ab.1 /\\", max_size=10))
def test_automaton_agrees_with_the_regexp(pieces: list[str], path: str) -> None:
    pattern = Pattern("".join(pieces), False)
    if pattern.tokens is None or pattern.regex is None:
        return
    regex = pattern.regex
    assert isinstance(regex, re.Pattern)
    assert pattern.match(path) == (regex.match(path) is not None), pattern.tokens
