"""Variable scope of a build stage, with BuildKit's ARG/ENV rules.

* An ARG before the first FROM is visible in FROM lines only, unless a stage
  re-declares it with a bare ``ARG NAME``.
* ENV is inherited through ``FROM <stage>``; ARG is not.
* ENV wins over an ARG of the same name.
* A name the Dockerfile never defines may come from the base image's ENV: it
  is *unknown*, unless the stage chain starts from ``scratch``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from secpolicy.dockerfile.lexer import Expansion, Lexer, LexError


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
Value = str | None | _Unknown

# BuildKit defines these for FROM lines and for stages that declare them.
PLATFORM_ARGS = frozenset(
    {
        "BUILDPLATFORM",
        "BUILDOS",
        "BUILDARCH",
        "BUILDVARIANT",
        "TARGETPLATFORM",
        "TARGETOS",
        "TARGETARCH",
        "TARGETVARIANT",
        "TARGETSTAGE",
    }
)


@dataclass
class Scope(Mapping[str, str | None]):
    """What ``$NAME`` means at one point of a stage.

    Mapping semantics for the lexer: a missing key is unknown, ``None`` is a
    declared but unset ARG.
    """

    env: dict[str, Value] = field(default_factory=dict)
    args: dict[str, Value] = field(default_factory=dict)
    closed: bool = False

    def _get(self, name: str) -> Value:
        if name in self.env:
            return self.env[name]
        if name in self.args:
            return self.args[name]
        return None if self.closed else UNKNOWN

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not isinstance(self._get(name), _Unknown)

    def __getitem__(self, name: str) -> str | None:
        value = self._get(name)
        if isinstance(value, _Unknown):
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter({**self.args, **self.env})

    def __len__(self) -> int:
        return len({**self.args, **self.env})

    def child(self) -> Scope:
        """Scope of a stage built ``FROM`` this one: ENV carries over, ARG does not."""
        return Scope(dict(self.env), {}, self.closed)

    def expand(self, word: str, escape: str) -> Expansion:
        try:
            return Lexer(escape).expand(word, self)
        except LexError as exc:
            return Expansion(word, [word], unknown={f"<{exc}>"})


def stored(exp: Expansion) -> Value:
    """What an ARG/ENV assignment stores: unknown if any input was unknown."""
    return exp.value if exp.resolved else UNKNOWN
