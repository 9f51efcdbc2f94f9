"""Fingerprints of a finding: GitHub's ``primaryLocationLineHash``, and a key-based one of our own.

``line_hashes`` is github/codeql-action's ``hash`` (``src/fingerprints.ts``)
step by step: a rolling hash (multiplier 37, signed 64-bit arithmetic) over
the 100 characters that are not space or tab from the start of each line,
``\\r\\n`` and ``\\r`` read as ``\\n``, an end-of-file marker (65535) and zeros
to fill the last windows, formatted ``<unsigned hex>:<occurrence>``.  It
walks UTF-16 code units, as JavaScript's ``charCodeAt`` does.  A value
computed any other way must not be given under that key: the upload keeps
ours, and GitHub would track alerts by another hash than its own.
"""

from __future__ import annotations

import hashlib

_BLOCK = 100
_MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_MOD, _BLOCK, 1 << 64)
_TAB, _SPACE, _LF, _CR, _EOF = 0x09, 0x20, 0x0A, 0x0D, 65535


def line_hashes(text: str) -> dict[int, str]:
    """``primaryLocationLineHash`` by 1-based line number."""
    window = [0] * _BLOCK
    line_numbers = [-1] * _BLOCK
    hash_raw = 0
    index = 0
    line_number = 0
    line_start = True
    prev_cr = False
    counts: dict[str, int] = {}
    out: dict[int, str] = {}

    def output() -> None:
        value = f"{hash_raw:x}"
        counts[value] = counts.get(value, 0) + 1
        out[line_numbers[index]] = f"{value}:{counts[value]}"
        line_numbers[index] = -1

    def update(current: int) -> None:
        nonlocal hash_raw, index
        begin = window[index]
        window[index] = current
        hash_raw = (_MOD * hash_raw + current - _FIRST_MOD * begin) & _MASK
        index = (index + 1) % _BLOCK

    def process(current: int) -> None:
        nonlocal prev_cr, line_start, line_number
        if current in (_SPACE, _TAB) or (prev_cr and current == _LF):
            prev_cr = False
            return
        if current == _CR:
            current, prev_cr = _LF, True
        else:
            prev_cr = False
        if line_numbers[index] != -1:
            output()
        if line_start:
            line_start = False
            line_number += 1
            line_numbers[index] = line_number
        if current == _LF:
            line_start = True
        update(current)

    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        process(data[i] | data[i + 1] << 8)
    process(_EOF)
    for _ in range(_BLOCK):
        if line_numbers[index] != -1:
            output()
        update(0)
    return out


def key_fingerprint(rule: str, path: str, key: str) -> str:
    """Ours: the rule, the file and the finding's key (not its line), so that moving code keeps the identity."""
    return hashlib.sha256(f"{rule}\0{path}\0{key}".encode()).hexdigest()[:32]
