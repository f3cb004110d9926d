"""Rewrites that give hyperscan and RE2 the PCRE semantics ModSecurity compiles with.

ModSecurity compiles ``@rx`` patterns with PCRE_DOTALL and PCRE_DOLLAR_ENDONLY
and no UTF mode. Both engines here run in byte mode with dot-all set, which
leaves two differences to fix in the pattern text:

* hyperscan's ``$`` also matches before a final newline, as plain PCRE does.
  With DOLLAR_ENDONLY it must match only at the very end, so ``$`` becomes
  ``\\z`` unless the pattern turns on multi-line mode.
* RE2's ``\\s`` leaves out the vertical tab (0x0b), which PCRE includes, so
  ``\\s`` gains ``\\x0b`` and ``\\S`` loses it.

The rewrite walks the pattern once, tracking escapes, ``\\Q...\\E`` quoting
and character classes, so a ``$`` or ``\\s`` inside them is left alone where
it means something else.
"""

from __future__ import annotations

from collections.abc import Callable

# (piece, inside_class) -> replacement text, or None to keep the piece.
Rewriter = Callable[[str, bool], str | None]


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


def _rewrite_class(body: str, rewrite: Rewriter) -> str:
    output: list[str] = []
    index = 0
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body):
            piece = body[index : index + 2]
            replacement = rewrite(piece, True)
            output.append(piece if replacement is None else replacement)
            index += 2
        else:
            output.append(body[index])
            index += 1
    return "".join(output)


def rewrite_pattern(pattern: str, rewrite: Rewriter) -> str:
    """Apply ``rewrite`` to every escape and every bare ``$`` of ``pattern``."""
    output: list[str] = []
    index = 0
    length = len(pattern)
    while index < length:
        char = pattern[index]
        if char == "\\" and pattern.startswith("\\Q", index):
            close = pattern.find("\\E", index + 2)
            end = length if close < 0 else close + 2
            output.append(pattern[index:end])
            index = end
        elif char == "\\":
            piece = pattern[index : index + 2]
            replacement = rewrite(piece, False)
            output.append(piece if replacement is None else replacement)
            index += 2
        elif char == "[":
            end = _class_end(pattern, index)
            output.append(_rewrite_class(pattern[index:end], rewrite))
            index = end
        elif char == "$":
            replacement = rewrite("$", False)
            output.append("$" if replacement is None else replacement)
            index += 1
        else:
            output.append(char)
            index += 1
    return "".join(output)


def _uses_multiline(pattern: str) -> bool:
    """Tell whether an inline flag group such as ``(?m)`` or ``(?im:`` turns on multi-line."""
    index = pattern.find("(?")
    while index >= 0:
        flags_end = index + 2
        while flags_end < len(pattern) and pattern[flags_end].isalpha():
            flags_end += 1
        if "m" in pattern[index + 2 : flags_end]:
            return True
        index = pattern.find("(?", index + 2)
    return False


def _dollar_end_only(piece: str, inside_class: bool) -> str | None:
    return "\\z" if piece == "$" and not inside_class else None


def _pcre_whitespace(piece: str, inside_class: bool) -> str | None:
    if piece == "\\s":
        return "\\s\\x0b" if inside_class else "[\\s\\x0b]"
    if piece == "\\S" and not inside_class:
        return "[^\\s\\x0b]"
    # NOTE: \S inside a class still lets RE2 count a vertical tab as non-space.
    return None


def for_hyperscan(pattern: str) -> str:
    """Return ``pattern`` with ``$`` anchored at the very end, unless it is multi-line."""
    if "$" not in pattern or _uses_multiline(pattern):
        return pattern
    return rewrite_pattern(pattern, _dollar_end_only)


def for_re2(pattern: str) -> str:
    """Return ``pattern`` with ``\\s`` including the vertical tab, as in PCRE."""
    if "\\s" not in pattern and "\\S" not in pattern:
        return pattern
    return rewrite_pattern(pattern, _pcre_whitespace)
