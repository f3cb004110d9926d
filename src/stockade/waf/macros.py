"""Macro expansion: ``%{tx.score}``, ``%{MATCHED_VAR}``, ``%{rule.id}`` in action text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

Resolver = Callable[[str, str | None], str | None]
"""Return the text for a variable name and optional key, or None when it has no value."""

MAX_MACRO_NAME: Final = 256
"""Characters allowed between %{ and }; longer text is left as written."""


MAX_TEMPLATES: Final = 16384
"""Parsed texts kept; texts come from the loaded rules, so this is only a safety bound."""

Template = tuple[str | tuple[str, str | None], ...]
"""Literal text, and ``(NAME, key or None)`` for each macro, in order."""

_templates: dict[str, Template] = {}


def expand(text: str, resolve: Resolver) -> str:
    """Replace every ``%{NAME}`` or ``%{NAME.KEY}`` in ``text``; unknown ones become ''.

    Only ``text`` (from the rules) is scanned; inserted values are never
    expanded again, so request data cannot inject macros.
    """
    if "%{" not in text:
        return text
    template = _templates.get(text)
    if template is None:
        template = parse_template(text)
        if len(_templates) >= MAX_TEMPLATES:
            _templates.clear()
        _templates[text] = template
    parts: list[str] = []
    for part in template:
        if isinstance(part, str):
            parts.append(part)
        else:
            parts.append(resolve(part[0], part[1]) or "")
    return "".join(parts)


def parse_template(text: str) -> Template:
    """Split ``text`` into literal parts and macro references, as ``expand`` reads it."""
    parts: list[str | tuple[str, str | None]] = []
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
        parts.append((name.upper(), key if dot else None))
        index = end + 1
    return tuple(part for part in parts if part != "")
