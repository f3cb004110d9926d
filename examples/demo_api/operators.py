"""MongoDB-style query operators, evaluated in Python by the vulnerable login.

A login that passes the JSON ``password`` value straight into a document
query lets a client send ``{"$ne": ""}`` in place of a password. This
module reproduces that behaviour without a document database.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq,
    "$ne": operator.ne,
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def matches(value: str, condition: object) -> bool:
    """Return whether ``value`` satisfies ``condition``.

    A plain value matches by equality. A mapping of operators matches when
    every operator holds; ``$in``, ``$nin`` and ``$exists`` are supported
    besides the comparisons. An unknown operator or an uncomparable operand
    does not match.
    """
    if not isinstance(condition, dict):
        return value == condition
    for name, operand in condition.items():
        if not _holds(value, name, operand):
            return False
    return True


def _holds(value: str, name: str, operand: object) -> bool:
    if name == "$in":
        return isinstance(operand, list) and value in operand
    if name == "$nin":
        return isinstance(operand, list) and value not in operand
    if name == "$exists":
        return bool(operand)
    compare = _COMPARISONS.get(name)
    if compare is None:
        return False
    if name in ("$eq", "$ne"):
        return compare(value, operand)
    if not isinstance(operand, str):
        return False
    return compare(value, operand)
