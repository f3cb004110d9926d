"""Types of the C module built from _access.c (see stockade.native)."""

from typing import Any

def format_line(entry: tuple[Any, ...], route_members: str, /) -> str | None: ...
