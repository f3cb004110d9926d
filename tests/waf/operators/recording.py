"""A transaction stand-in for operator tests."""

from __future__ import annotations


class RecordingContext:
    """Implements OperatorContext over plain Python values."""

    def __init__(self, capture: bool = False, macros: dict[str, str] | None = None) -> None:
        self.capture = capture
        self.macros = macros or {}
        self.captures: list[bytes] | None = None

    def set_captures(self, groups: list[bytes]) -> None:
        self.captures = groups

    def expand_macros(self, text: str) -> str:
        for name, value in self.macros.items():
            text = text.replace("%{" + name + "}", value)
        return text
