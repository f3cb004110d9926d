"""Split a SecLang action list such as ``id:1,phase:2,msg:'a, b'``."""

from __future__ import annotations


def parse_action_list(text: str) -> list[tuple[str, str | None]]:
    """Return ``(name, value)`` pairs in order; ``value`` is None for bare actions.

    A value may be quoted with single quotes, in which commas are literal and
    ``\\'`` is a quote. Raise ValueError on an unterminated quote.
    """
    actions: list[tuple[str, str | None]] = []
    index = 0
    length = len(text)
    while index < length:
        while index < length and (text[index].isspace() or text[index] == ","):
            index += 1
        if index >= length:
            break
        start = index
        while index < length and text[index] not in ":,":
            index += 1
        name = text[start:index].strip()
        if index >= length or text[index] == ",":
            actions.append((name, None))
            continue
        index += 1  # the colon
        while index < length and text[index] in " \t":
            index += 1
        value, index = _read_value(text, index)
        actions.append((name, value))
    return actions


def _read_value(text: str, index: int) -> tuple[str, int]:
    length = len(text)
    if index < length and text[index] == "'":
        parts: list[str] = []
        index += 1
        while index < length:
            char = text[index]
            if char == "\\" and index + 1 < length and text[index + 1] == "'":
                parts.append("'")
                index += 2
                continue
            if char == "'":
                return "".join(parts), index + 1
            parts.append(char)
            index += 1
        raise ValueError(f"unterminated ' quote in action value {text[:80]!r}")
    start = index
    while index < length and text[index] != ",":
        index += 1
    return text[start:index].strip(), index
