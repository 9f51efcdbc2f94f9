"""STOPSIGNAL values, as ``moby/sys/signal.ParseSignal`` accepts them on Linux."""

from __future__ import annotations

import re

_NAMES = frozenset(
    [
        "ABRT",
        "ALRM",
        "BUS",
        "CHLD",
        "CLD",
        "CONT",
        "FPE",
        "HUP",
        "ILL",
        "INT",
        "IO",
        "IOT",
        "KILL",
        "PIPE",
        "POLL",
        "PROF",
        "PWR",
        "QUIT",
        "SEGV",
        "STKFLT",
        "STOP",
        "SYS",
        "TERM",
        "TRAP",
        "TSTP",
        "TTIN",
        "TTOU",
        "URG",
        "USR1",
        "USR2",
        "VTALRM",
        "WINCH",
        "XCPU",
        "XFSZ",
        "RTMIN",
        "RTMAX",
    ]
)
_REALTIME = re.compile(r"RTMIN\+(?:[1-9]|1[0-5])|RTMAX-(?:[1-9]|1[0-4])")


def is_signal(text: str) -> bool:
    """A number other than 0 (Go's strconv.Atoi), or a signal name with or without SIG, any case."""
    if re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        return int(text) != 0
    name = text.upper().removeprefix("SIG")
    return name in _NAMES or bool(_REALTIME.fullmatch(name))
