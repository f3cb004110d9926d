"""``setvar``: create, change or delete a variable in TX or a persistent collection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stockade.waf.rules import Rule
    from stockade.waf.transaction import Transaction

WRITABLE_COLLECTIONS = frozenset({"TX", "IP", "GLOBAL", "SESSION", "USER", "RESOURCE"})


@dataclass(frozen=True, slots=True)
class SetVar:
    """``setvar:tx.name=value``, ``=+N``, ``=-N``, ``!tx.name`` (delete) or ``tx.name``."""

    collection: str
    key: str  # may contain macros
    operation: str  # "=", "+", "-", "!"
    value: str  # may contain macros
    name: str = "setvar"

    def execute(self, transaction: Transaction, rule: Rule) -> None:
        key = transaction.expand_macros(self.key) if "%{" in self.key else self.key
        target = transaction.collection(self.collection)
        if self.operation == "!":
            target.remove(key)
            return
        value = transaction.expand_macros(self.value) if "%{" in self.value else self.value
        if self.operation == "=":
            target.set(key, value.encode("utf-8", "surrogateescape"))
            return
        current = _to_int(target.first(key))
        amount = _to_int(value.encode("utf-8", "surrogateescape"))
        result = current + amount if self.operation == "+" else current - amount
        target.set(key, str(result).encode())


def _to_int(value: bytes | None) -> int:
    """Read a number the way ModSecurity does: leading digits, anything else is 0."""
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    text = value.strip()
    sign = 1
    if text[:1] in (b"-", b"+"):
        sign = -1 if text[:1] == b"-" else 1
        text = text[1:]
    digits = text[: len(text) - len(text.lstrip(_DIGITS))]
    return sign * int(digits) if digits else 0


_DIGITS = b"0123456789"


def parse_setvar(value: str) -> SetVar:
    """Parse the argument of ``setvar``; raise ValueError when it is malformed."""
    text = value.strip()
    operation = "="
    if text.startswith("!"):
        operation, text = "!", text[1:]
    name, equals, assigned = text.partition("=")
    collection, dot, key = name.strip().partition(".")
    collection = collection.upper()
    if not dot or not key:
        raise ValueError(f"setvar {value!r} needs COLLECTION.name, for example tx.score=5")
    if collection not in WRITABLE_COLLECTIONS:
        raise ValueError(f"setvar {value!r}: collection {collection} is not writable; "
                         f"use one of {sorted(WRITABLE_COLLECTIONS)}")
    if operation == "!":
        return SetVar(collection, key, "!", "")
    if not equals:
        return SetVar(collection, key, "=", "1")
    if assigned.startswith("+") or assigned.startswith("-"):
        return SetVar(collection, key, assigned[0], assigned[1:])
    return SetVar(collection, key, "=", assigned)


def build(value: str | None) -> SetVar:
    if not value:
        raise ValueError("setvar needs an argument, for example setvar:tx.score=+5")
    return parse_setvar(value)
