"""Parse a SecLang variable list such as ``ARGS|!ARGS:id|&TX:foo|XML:/*``.

Selector regular expressions match collection keys, which come from the
request, so they compile with RE2 and never with Python's ``re``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import re2

MAX_REMEMBERED_KEYS = 4096
"""Keys whose selector result a KeyPattern keeps; past it the memory starts again."""


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """One entry of a rule's target list."""

    name: str  # upper-case collection or variable name, e.g. "ARGS"
    key: str | None = None  # literal selector, lower-cased for case-insensitive lookup
    key_text: str | None = None  # the selector as written, for messages
    key_pattern: KeyPattern | None = None  # for a /regex/ selector
    count: bool = False  # "&": the number of matching values, not the values
    exclude: bool = False  # "!": remove matching keys from the collection
    # The variable and selector as written, without "!" or "&": specs with the same
    # selection resolve to the same values.
    selection: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        suffix = f":{self.key_text}" if self.key_text is not None else ""
        object.__setattr__(self, "selection", f"{self.name}{suffix}")

    def selects(self, key: str) -> bool:
        """Return True when this spec's selector covers collection key ``key``."""
        if self.key_pattern is not None:
            return self.key_pattern.selects(key)
        if self.key is None:
            return True
        return self.key == key.lower()

    def label(self) -> str:
        prefix = ("!" if self.exclude else "") + ("&" if self.count else "")
        suffix = f":{self.key_text}" if self.key_text is not None else ""
        return f"{prefix}{self.name}{suffix}"


class KeyPattern:
    """A /regex/ selector, compiled case-insensitively as ModSecurity does.

    The same keys (the TX variables of the CRS, the usual header names) come
    back in every request, so the result for each key is remembered.
    """

    __slots__ = ("_compiled", "results")

    def __init__(self, pattern: str) -> None:
        options = re2.Options()
        options.case_sensitive = False
        options.dot_nl = True
        self._compiled = re2.compile(pattern.encode("utf-8", "surrogateescape"), options)
        self.results: dict[str, bool] = {}  # each key's result so far, read by the rule loop

    def selects(self, key: str) -> bool:
        result = self.results.get(key)
        if result is None:
            result = self._compiled.search(key.encode("utf-8", "surrogateescape")) is not None
            if len(self.results) >= MAX_REMEMBERED_KEYS:
                self.results.clear()  # keys come from requests, so the memory is bounded
            self.results[key] = result
        return result


def parse_variables(text: str) -> list[VariableSpec]:
    """Split on ``|`` outside of /regex/ and quoted selectors. Raise ValueError."""
    specs: list[VariableSpec] = []
    for item in _split(text):
        specs.append(parse_variable(item))
    if not specs:
        raise ValueError("empty variable list")
    return specs


def parse_variable(item: str) -> VariableSpec:
    text = item.strip()
    exclude = count = False
    if text.startswith("!"):
        exclude, text = True, text[1:]
    if text.startswith("&"):
        count, text = True, text[1:]
    name, sep, selector = text.partition(":")
    name = name.strip().upper()
    if not name or not all(char.isalnum() or char == "_" for char in name):
        raise ValueError(f"invalid variable name in {item!r}")
    if not sep:
        return VariableSpec(name, count=count, exclude=exclude)
    if name == "XML":
        return VariableSpec(name, key=selector, key_text=selector, count=count, exclude=exclude)
    if len(selector) >= 2 and selector[0] == selector[-1] == "'":
        selector = selector[1:-1]
    if len(selector) >= 2 and selector.startswith("/") and selector.endswith("/"):
        pattern = selector[1:-1]
        try:
            compiled = KeyPattern(pattern)
        except re2.error as error:
            raise ValueError(f"invalid selector regex {pattern!r} in {item!r}: {error}") from None
        return VariableSpec(name, key_text=selector, key_pattern=compiled, count=count,
                            exclude=exclude)
    return VariableSpec(name, key=selector.lower(), key_text=selector, count=count,
                        exclude=exclude)


def _split(text: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if char == "|":
            items.append("".join(current))
            current = []
            index += 1
            continue
        current.append(char)
        index += 1
        if char == ":" and index < length and text[index] in "/'":
            closing = text[index]
            is_xml = "".join(current).lstrip("!&").upper().startswith("XML:")
            if is_xml and closing == "/":
                continue
            end = _find_closing(text, index + 1, closing)
            current.append(text[index:end + 1])
            index = end + 1
    if current:
        items.append("".join(current))
    return [item for item in items if item.strip()]


def _find_closing(text: str, index: int, closing: str) -> int:
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == closing:
            return index
        index += 1
    raise ValueError(f"unterminated {closing} selector in {text!r}")
