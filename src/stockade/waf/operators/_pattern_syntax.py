"""Pattern text that gives hyperscan and RE2 the semantics ModSecurity v3 compiles with.

ModSecurity 3.0.9 compiles ``@rx`` patterns with PCRE_DOTALL and
PCRE_MULTILINE and no UTF mode, so ``.`` matches a newline, ``^`` and ``$``
also match at line breaks, and the value is read as bytes. Coraza sets the
same ``(?sm)`` flags. Both engines here run in byte mode with dot-all set,
and multi-line mode comes from a leading ``(?m)`` (RE2 has no option for
it). One difference remains to fix in the text: RE2's ``\\s`` leaves out the
vertical tab (0x0b), which PCRE includes, so ``\\s`` gains ``\\x0b`` and
``\\S`` loses it.

The rewrite walks the pattern once, tracking escapes, ``\\Q...\\E`` quoting
and character classes, so an ``\\s`` inside quoting is left alone.
"""

from __future__ import annotations

MULTILINE_PREFIX = "(?m)"


def _class_end(pattern: str, start: int) -> int:
    """Return the index just past the character class that opens at ``start``."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1  # a "]" first in the class is a literal
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
        elif char == "[" and pattern.startswith("[:", index):
            close = pattern.find(":]", index + 2)
            index = close + 2 if close >= 0 else index + 1
        elif char == "]":
            return index + 1
        else:
            index += 1
    return len(pattern)


def _whitespace_escape(piece: str, inside_class: bool) -> str:
    """Return the RE2 text for the two-character escape ``piece``."""
    if piece == "\\s":
        return "\\s\\x0b" if inside_class else "[\\s\\x0b]"
    if piece == "\\S" and not inside_class:
        return "[^\\s\\x0b]"
    # NOTE: \S inside a class still lets RE2 count a vertical tab as non-space.
    return piece


def _rewrite_class(body: str) -> str:
    output: list[str] = []
    index = 0
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body):
            output.append(_whitespace_escape(body[index : index + 2], True))
            index += 2
        else:
            output.append(body[index])
            index += 1
    return "".join(output)


def _include_vertical_tab(pattern: str) -> str:
    output: list[str] = []
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if pattern.startswith("\\Q", index):
            close = pattern.find("\\E", index + 2)
            end = length if close < 0 else close + 2
            output.append(pattern[index:end])
            index = end
        elif char == "\\":
            output.append(_whitespace_escape(pattern[index : index + 2], False))
            index += 2
        elif char == "[":
            end = _class_end(pattern, index)
            output.append(_rewrite_class(pattern[index:end]))
            index = end
        else:
            output.append(char)
            index += 1
    return "".join(output)


def _counted_repetition_end(pattern: str, start: int) -> int | None:
    """Return the index past a ``{n}``, ``{n,}`` or ``{n,m}`` at ``start``, else None.

    Any other ``{`` is a literal brace, as in PCRE.
    """
    index = start + 1
    digits = index
    while index < len(pattern) and pattern[index].isdigit():
        index += 1
    if index == digits:
        return None
    if index < len(pattern) and pattern[index] == ",":
        index += 1
        while index < len(pattern) and pattern[index].isdigit():
            index += 1
    if index < len(pattern) and pattern[index] == "}":
        return index + 1
    return None


def without_possessive(pattern: str) -> str | None:
    """Return ``pattern`` with its possessive quantifiers made greedy, or None when it has none.

    Neither engine has possessive quantifiers (``a*+``, ``a++``, ``a?+``,
    ``a{2,}+``), which never give back what they matched. The greedy form
    matches every value the possessive one matches, and possibly more.
    """
    output: list[str] = []
    changed = False
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        end = index + 1
        quantifier = False
        if pattern.startswith("\\Q", index):
            close = pattern.find("\\E", index + 2)
            end = length if close < 0 else close + 2
        elif char == "\\":
            end = index + 2
        elif char == "[":
            end = _class_end(pattern, index)
        elif char in "*+?":
            quantifier = not (char == "?" and index > 0 and pattern[index - 1] == "(")
        elif char == "{":
            counted = _counted_repetition_end(pattern, index)
            if counted is not None:
                end, quantifier = counted, True
        output.append(pattern[index:end])
        if quantifier and end < length and pattern[end] == "+":
            changed = True
            end += 1  # the "+" that makes the quantifier possessive is dropped
        index = end
    return "".join(output) if changed else None


def for_hyperscan(pattern: str) -> str:
    """Return ``pattern`` in multi-line mode, for hyperscan with HS_FLAG_DOTALL."""
    return MULTILINE_PREFIX + pattern


def for_re2(pattern: str) -> str:
    """Return ``pattern`` in multi-line mode with ``\\s`` including the vertical tab."""
    if "\\s" in pattern or "\\S" in pattern:
        pattern = _include_vertical_tab(pattern)
    return MULTILINE_PREFIX + pattern
