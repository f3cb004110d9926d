"""JSON bodies flattened into ARGS_POST with ModSecurity v3's names.

``{"a": {"b": 1}, "c": [true, null]}`` gives ``json.a.b=1``,
``json.c.array_0=true`` and ``json.c.array_1=`` (null is empty). Numbers
keep their text. Duplicate keys are all kept, so a value hidden behind a
repeated key is still inspected. Nesting past SecRequestBodyJsonDepthLimit
is a body error and nothing is added.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stockade.waf.bodies.arguments import add_arguments, set_body_error

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

ROOT_NAME = "json"


def nesting_depth(body: bytes) -> int:
    """Return the maximum nesting of ``[`` and ``{`` outside strings, in one linear pass."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def parse(transaction: Transaction, body: bytes) -> None:
    limit = transaction.engine.ruleset.settings.request_body_json_depth_limit
    if nesting_depth(body) > limit:
        set_body_error(transaction, f"JSON nesting deeper than {limit} levels "
                                    "(SecRequestBodyJsonDepthLimit)")
        return
    try:
        document = json.loads(body, object_pairs_hook=_Pairs, parse_float=str, parse_int=str,
                              parse_constant=str)
    except (ValueError, RecursionError) as error:
        set_body_error(transaction, f"JSON parsing error: {error}")
        return
    pairs: list[tuple[bytes, bytes]] = []
    _flatten(document, ROOT_NAME, pairs)
    add_arguments(transaction, pairs)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs in order, duplicates included."""


def _flatten(node: Any, path: str, out: list[tuple[bytes, bytes]]) -> None:
    if isinstance(node, _Pairs):
        for key, value in node:
            _flatten(value, f"{path}.{key}", out)
    elif isinstance(node, list):
        # NOTE: libmodsecurity names an object inside an array "json.a.array_0b";
        # the dot added here ("json.a.array_0.b") makes exclusions by name differ.
        for index, value in enumerate(node):
            _flatten(value, f"{path}.array_{index}", out)
    else:
        out.append((_encode(path), _scalar(node)))


def _scalar(value: Any) -> bytes:
    if value is None:
        return b""
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    return _encode(str(value))


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")
