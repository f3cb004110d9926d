"""The ``sha1`` transformation."""

from __future__ import annotations

import hashlib

from stockade.waf.transformations._registry import register


@register("sha1")
def sha1(value: bytes) -> bytes:
    """Replace the value with its raw 20-byte SHA-1 digest (not hex).

    Rules chain it with ``t:hexEncode`` to compare against a hex string.

    Argument: none.
    Example: ``t:sha1,t:hexEncode`` turns ``abc`` into
    ``a9993e364706816aba3e25717850c26c9cd0d89d``.
    """
    return hashlib.sha1(value, usedforsecurity=False).digest()
