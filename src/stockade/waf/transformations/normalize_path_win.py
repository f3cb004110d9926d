"""The ``normalizePathWin`` transformation (also spelled ``normalisePathWin``)."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations.normalize_path import normalize_slashes


@register("normalizePathWin", "normalisePathWin")
def normalize_path_win(value: bytes) -> bytes:
    """Turn backslashes into ``/``, then normalize as ``t:normalizePath`` does.

    Argument: none.
    Example: ``t:normalizePathWin`` turns ``C:\\a\\..\\windows\\.\\win.ini`` into
    ``C:/windows/win.ini``.
    """
    if b"\\" in value:
        value = value.replace(b"\\", b"/")
    return normalize_slashes(value)
