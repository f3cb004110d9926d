"""Compare responses: the same object seen twice, or two responses that differ.

Access-control checks ask whether an attacker's response shows the same
object as the owner's. Injection and enumeration checks ask whether two
responses differ in a stable way. Long strings (tokens, timestamps with
fractions) are volatile, so JSON is compared by structure and by its short
scalar values.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from stockade.scanner.client import Reply

VOLATILE_STRING_CHARS = 40
"""Strings at least this long are compared by presence only (tokens, hashes, timestamps)."""

SIMILAR_THRESHOLD = 0.8
"""Share of equal JSON leaves (or of equal text) above which two bodies show the same data."""

MAX_COMPARED_CHARS = 20_000
"""Characters of a non-JSON body compared, to bound difflib's quadratic cost."""


def json_leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten a JSON document to {pointer: scalar}, long strings masked."""
    leaves: dict[str, Any] = {}
    if isinstance(node, dict):
        for key, value in node.items():
            leaves.update(json_leaves(value, f"{prefix}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            leaves.update(json_leaves(value, f"{prefix}/{index}"))
        if not node:
            leaves[prefix] = "[]"
    elif isinstance(node, str) and len(node) >= VOLATILE_STRING_CHARS:
        leaves[prefix] = "<long string>"
    else:
        leaves[prefix] = node
    return leaves


def body_similarity(first: Reply, second: Reply) -> float:
    """Return 0.0 to 1.0: how much of the two bodies is the same."""
    doc_a, doc_b = first.json(), second.json()
    if doc_a is not None and doc_b is not None:
        leaves_a, leaves_b = json_leaves(doc_a), json_leaves(doc_b)
        union = set(leaves_a) | set(leaves_b)
        if not union:
            return 1.0
        equal = sum(1 for key in union if key in leaves_a and key in leaves_b
                    and leaves_a[key] == leaves_b[key])
        return equal / len(union)
    text_a, text_b = first.text[:MAX_COMPARED_CHARS], second.text[:MAX_COMPARED_CHARS]
    if text_a == text_b:
        return 1.0
    return difflib.SequenceMatcher(None, text_a, text_b, autojunk=False).ratio()


def same_data(first: Reply, second: Reply) -> bool:
    """Both responses succeeded and show essentially the same body."""
    return first.ok and second.ok and body_similarity(first, second) >= SIMILAR_THRESHOLD


def signature(reply: Reply, echoed: str = "") -> str:
    """Digest a response into its status and body, volatile parts masked.

    ``echoed`` (the payload the request carried) is removed first, so a
    response that merely repeats the input does not look different.
    """
    document = reply.json()
    if document is not None:
        body = json.dumps(json_leaves(document), sort_keys=True, default=str)
    else:
        body = reply.text
    if echoed:
        body = body.replace(echoed, "").replace(json.dumps(echoed)[1:-1], "")
    return f"{reply.status}\n{body}"


def shape(reply: Reply) -> str:
    """Reduce a response to its status and JSON member paths, values ignored.

    Two successful registrations differ in their new ids and names but
    share a shape; a "name taken" error has another one.
    """
    document = reply.json()
    if document is None:
        return f"{reply.status}\n{reply.text}"
    return f"{reply.status}\n" + "\n".join(sorted(json_leaves(document)))


def looks_like_failure(reply: Reply) -> bool:
    """Tell whether a response reports an error, even with a 2xx status ({"ok": false})."""
    if not reply.ok:
        return True
    document = reply.json()
    if isinstance(document, dict):
        if document.get("ok") is False or document.get("success") is False:
            return True
        if "error" in document and len(document) <= 2:
            return True
    return False
