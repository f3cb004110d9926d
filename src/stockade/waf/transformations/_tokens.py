"""Finding the earliest of several byte strings without rescanning the value."""

from __future__ import annotations


class TokenFinder:
    """Earliest occurrence of any of a fixed set of tokens in one value.

    Each token's next position is cached, so scanning a value with many
    matches costs one pass per token instead of one pass per match.
    """

    __slots__ = ("_next", "_tokens", "_value")

    def __init__(self, value: bytes, tokens: tuple[bytes, ...]) -> None:
        self._value = value
        self._tokens = tokens
        self._next = [value.find(token) for token in tokens]

    def find(self, start: int) -> tuple[int, bytes]:
        """Return the earliest token at or after ``start`` and its position, or (-1, b"").

        Tokens are tried in the order given, so at a shared position the
        first one listed wins.
        """
        best = -1
        found = b""
        for slot, token in enumerate(self._tokens):
            position = self._next[slot]
            if 0 <= position < start:
                position = self._value.find(token, start)
                self._next[slot] = position
            if position >= 0 and (best < 0 or position < best):
                best = position
                found = token
        return best, found
