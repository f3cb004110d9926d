"""Split SecLang text into directives.

The syntax follows Apache httpd's configuration files, which ModSecurity
rules were written for: one directive per logical line, a backslash at the
end of a line continues it, ``#`` starts a comment line, and arguments are
separated by whitespace. An argument may be quoted with ``"`` or ``'``.
As in httpd, a backslash escapes only a backslash or the quote character:
``\\\\`` becomes ``\\`` and ``\\"`` becomes ``"``, and any other backslash is
kept, so a regular expression such as ``\\x5c`` passes through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.waf.seclang.errors import SecLangError


@dataclass(frozen=True, slots=True)
class Directive:
    name: str
    args: tuple[str, ...]
    path: str
    line: int

    def error(self, message: str) -> SecLangError:
        """Build an error that names this directive's file, line and name."""
        return SecLangError(message, path=self.path, line=self.line, directive=self.name)


def read_directives(text: str, path: str = "<string>") -> list[Directive]:
    """Parse ``text`` into directives; ``path`` only labels errors."""
    directives: list[Directive] = []
    for line_number, logical in _logical_lines(text):
        stripped = logical.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            words = split_arguments(stripped)
        except ValueError as error:
            raise SecLangError(str(error), path=path, line=line_number) from None
        directives.append(Directive(words[0], tuple(words[1:]), path, line_number))
    return directives


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join continued lines; each result carries the number of its first line."""
    result: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip()
        if not pending:
            start = number
        if line.endswith("\\") and not line.lstrip().startswith("#"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        result.append((start, "".join(pending)))
        pending = []
    if pending:
        result.append((start, "".join(pending)))
    return result


def split_arguments(line: str) -> list[str]:
    """Split one logical line into words, honouring quotes."""
    words: list[str] = []
    index = 0
    length = len(line)
    while index < length:
        char = line[index]
        if char.isspace():
            index += 1
            continue
        if char in "\"'":
            word, index = _read_quoted(line, index)
        else:
            end = index
            while end < length and not line[end].isspace():
                end += 1
            word, index = unescape(line[index:end], ""), end
        words.append(word)
    return words


def unescape(word: str, quote: str) -> str:
    """Turn ``\\\\`` into ``\\`` (and ``\\`` + quote into the quote); keep other backslashes."""
    if "\\" not in word:
        return word
    parts: list[str] = []
    index = 0
    while index < len(word):
        char = word[index]
        if char == "\\" and index + 1 < len(word) and word[index + 1] in ("\\", quote or "\\"):
            parts.append(word[index + 1])
            index += 2
            continue
        parts.append(char)
        index += 1
    return "".join(parts)


def _read_quoted(line: str, start: int) -> tuple[str, int]:
    quote = line[start]
    parts: list[str] = []
    index = start + 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line) and line[index + 1] in (quote, "\\"):
            parts.append(line[index + 1])
            index += 2
            continue
        if char == quote:
            return "".join(parts), index + 1
        parts.append(char)
        index += 1
    raise ValueError(f"unterminated {quote} quote in {line[start:start + 60]!r}")
