"""primaryLocationLineHash against the vectors of github/codeql-action's src/fingerprints.test.ts."""

from __future__ import annotations

import re

import pytest

from secpolicy.report.fingerprint import key_fingerprint, line_hashes

GREETING = [
    "e9496ae3ebfced30:1",
    "fb7c023a8b9ccb3f:1",
    "ce8ba1a563dcdaca:1",
    "e20e36e16fcb0cc8:1",
    "b3edc88f2938467e:1",
    "c8e28b0b4002a3a0:1",
    "c129715d7a2bc9a3:1",
]
VECTORS = [
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"]),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
        [
            "8b7cf3e952e7aeb2:1",
            "b1ae1287ec4718d9:1",
            "bff680108adb0fcc:1",
            "c6805c5e1288b612:1",
            "b86d3392aea1be30:1",
            "e6ceba753e1a442:1",
        ],
    ),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n", GREETING),
    (" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r", GREETING),
    (" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n", GREETING),
    (" hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n", GREETING),
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [
            *(f"a7f2ff13bc495cf2:{i}" for i in range(1, 7)),
            "a7f2ff1481e87703:1",
            "a9cf91f7bbf1862b:1",
            "55ec222b86bcae53:1",
            "cc97dc7b1d7d8f7b:1",
            "c129715d7a2bc9a3:1",
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), VECTORS)
def test_codeql_action_vectors(text: str, expected: list[str]) -> None:
    hashes = line_hashes(text)
    assert [hashes[i] for i in sorted(hashes)] == expected
    assert sorted(hashes) == list(range(1, len(re.split(r"\r\n|\r|\n", text)) + 1))


def test_astral_characters_count_as_two_units() -> None:
    assert line_hashes("😀\n") != line_hashes("x\n")
    assert line_hashes("é") != line_hashes("e")


def test_key_fingerprint_ignores_the_line() -> None:
    assert key_fingerprint("DF101", "Dockerfile", "stage 0") == key_fingerprint("DF101", "Dockerfile", "stage 0")
    assert key_fingerprint("DF101", "Dockerfile", "stage 0") != key_fingerprint("DF101", "Dockerfile", "stage 1")
    assert len(key_fingerprint("a", "b", "c")) == 32
