"""Image platforms (``os/architecture[/variant]``): which image of a multi-platform index to read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(f"platform {text!r}: use os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def matches(self, raw: object) -> bool:
        if not isinstance(raw, dict):
            return False
        if raw.get("os") != self.os or raw.get("architecture") != self.architecture:
            return False
        variant = raw.get("variant")
        if self.variant is None:
            return variant in (None, "", "v8") if self.architecture == "arm64" else True
        return variant == self.variant or (variant in (None, "") and self.variant == "v8")
