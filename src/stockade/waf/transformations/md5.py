"""The ``md5`` transformation."""

from __future__ import annotations

import hashlib

from stockade.waf.transformations._registry import register


@register("md5")
def md5(value: bytes) -> bytes:
    """Replace the value with its raw 16-byte MD5 digest (not hex).

    Argument: none.
    Example: ``t:md5,t:hexEncode`` turns ``abc`` into
    ``900150983cd24fb0d6963f7d28e17f72``.
    """
    return hashlib.md5(value, usedforsecurity=False).digest()
