"""The error raised for invalid SecLang configuration."""

from __future__ import annotations


class SecLangError(ValueError):
    """Invalid SecLang configuration, located by file, line and directive."""

    def __init__(self, message: str, *, path: str = "<string>", line: int = 0,
                 directive: str = "") -> None:
        self.path = path
        self.line = line
        self.directive = directive
        self.reason = message
        where = f"{path}:{line}"
        if directive:
            where += f": {directive}"
        super().__init__(f"{where}: {message}")
