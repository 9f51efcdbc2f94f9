"""Variable scope of a build stage, with BuildKit's ARG/ENV rules.

BuildKit expands words against the stage's environment (the LLB state's env,
``convert.go`` ``getEnv``), and both instructions write to it:

* ``ENV K=V`` adds K (``dispatchEnv``: ``d.state.AddEnv``);
* ``ARG K=V``, ``ARG K`` with ``--build-arg K=…``, and a bare ``ARG K`` that
  picks up the value of a global ARG add K too (``dispatchArg``:
  ``d.state.AddEnv``).  So whichever comes *later* wins: an ARG after an ENV
  of the same name overrides it, an ENV after an ARG overrides that;
* a bare ``ARG K`` with no value anywhere adds nothing: an earlier value of K
  stays, otherwise ``$K`` expands to the empty string;
* ``FROM <stage>`` starts from that stage's state (``dispatchState.init``), so
  its ENV *and* ARG values carry over, as do its declared ARGs;
* an ARG before the first FROM is visible in FROM lines only, unless a stage
  re-declares it with a bare ``ARG K``.

A name the Dockerfile never defines may come from the base image's ENV: it is
*unknown*, unless the stage chain starts from ``scratch``.

The stages of a Dockerfile form a tree (``FROM <stage>``).  The resolver walks
it depth first with one mutable scope and an undo log, so a child sees its
parent's final scope without copying it: linear in the size of the file.
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
_MISSING = object()

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
    declared but unset ARG.  Writes go through :meth:`set` and :meth:`declare`,
    which record what they replace so that :meth:`undo` can restore it.
    """

    env: dict[str, Value] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)
    closed: bool = False
    log: list[tuple[str, str, object]] = field(default_factory=list)

    def _get(self, name: str) -> Value:
        if name in self.env:
            return self.env[name]
        if name in self.declared or self.closed:
            return None
        return UNKNOWN

    def value(self, name: str) -> Value:
        return self._get(name)

    def set(self, name: str, value: Value) -> None:
        self.log.append(("env", name, self.env.get(name, _MISSING)))
        self.env[name] = value

    def declare(self, name: str) -> None:
        if name not in self.declared:
            self.log.append(("declared", name, _MISSING))
            self.declared.add(name)

    def mark(self) -> int:
        return len(self.log)

    def undo(self, mark: int) -> None:
        while len(self.log) > mark:
            where, name, old = self.log.pop()
            if where == "declared":
                self.declared.discard(name)
            elif old is _MISSING:
                del self.env[name]
            else:
                self.env[name] = old  # type: ignore[assignment]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and not isinstance(self._get(name), _Unknown)

    def __getitem__(self, name: str) -> str | None:
        value = self._get(name)
        if isinstance(value, _Unknown):
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.declared | set(self.env))

    def __len__(self) -> int:
        return len(self.declared | set(self.env))

    def expand(self, word: str, escape: str) -> Expansion:
        """Expand ``word``; a word BuildKit would refuse carries the error in ``Expansion.error``."""
        try:
            return Lexer(escape).expand(word, self)
        except LexError as exc:
            return Expansion(word, [word], unknown={f"<{exc}>"}, error=exc)


def stored(exp: Expansion) -> Value:
    """What an ARG/ENV assignment stores: unknown if any input was unknown."""
    return exp.value if exp.resolved else UNKNOWN
