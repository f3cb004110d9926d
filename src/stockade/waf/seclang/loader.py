"""Read SecLang files and expand ``Include`` directives."""

from __future__ import annotations

import glob
from pathlib import Path

from stockade.waf.seclang.errors import SecLangError
from stockade.waf.seclang.lexer import Directive, read_directives

MAX_INCLUDE_DEPTH = 16
"""Nesting limit for Include, so that a file including itself fails instead of looping."""


def load_directives(path: Path) -> list[Directive]:
    """Read ``path`` and every file it includes, in order."""
    return _load(path, depth=0)


def _load(path: Path, depth: int) -> list[Directive]:
    try:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as error:
        raise SecLangError(f"cannot read rules file: {error.strerror}", path=str(path)) from None
    result: list[Directive] = []
    for directive in read_directives(text, str(path)):
        if directive.name.lower() not in ("include", "includeoptional"):
            result.append(directive)
            continue
        if depth >= MAX_INCLUDE_DEPTH:
            raise directive.error(f"includes nest deeper than {MAX_INCLUDE_DEPTH} levels; "
                                  "check for a file that includes itself")
        for included in expand_include(directive, path.parent):
            result.extend(_load(included, depth + 1))
    return result


def expand_include(directive: Directive, base: Path) -> list[Path]:
    """Resolve an Include's pattern against ``base``; globs expand in sorted order."""
    if len(directive.args) != 1:
        raise directive.error("expects exactly one path or glob pattern")
    pattern = directive.args[0]
    full = pattern if Path(pattern).is_absolute() else str(base / pattern)
    if glob.has_magic(full):
        matches = sorted(Path(item) for item in glob.glob(full))
        return [item for item in matches if item.is_file()]
    candidate = Path(full)
    if not candidate.is_file():
        if directive.name.lower() == "includeoptional":
            return []
        raise directive.error(f"included file {pattern!r} not found (looked at {full})")
    return [candidate]
