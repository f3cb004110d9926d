"""Macro expansion: ``%{tx.score}``, ``%{MATCHED_VAR}``, ``%{rule.id}`` in action text."""

from __future__ import annotations

from collections.abc import Callable

Resolver = Callable[[str, str | None], str | None]
"""Return the text for a variable name and optional key, or None when it has no value."""

MAX_MACRO_NAME = 256
"""Characters allowed between %{ and }; longer text is left as written."""


def expand(text: str, resolve: Resolver) -> str:
    """Replace every ``%{NAME}`` or ``%{NAME.KEY}`` in ``text``; unknown ones become ''.

    Only ``text`` (from the rules) is scanned; inserted values are never
    expanded again, so request data cannot inject macros.
    """
    if "%{" not in text:
        return text
    parts: list[str] = []
    index = 0
    while True:
        start = text.find("%{", index)
        if start < 0:
            parts.append(text[index:])
            break
        end = text.find("}", start + 2)
        if end < 0 or end - start > MAX_MACRO_NAME:
            parts.append(text[index:])
            break
        parts.append(text[index:start])
        reference = text[start + 2:end].strip()
        name, dot, key = reference.partition(".")
        value = resolve(name.upper(), key if dot else None)
        parts.append(value or "")
        index = end + 1
    return "".join(parts)
