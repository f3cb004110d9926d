"""``initcol`` and ``expirevar``: persistent collections such as IP and GLOBAL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stockade.waf.rules import Rule
    from stockade.waf.transaction import Transaction

PERSISTENT_COLLECTIONS = frozenset({"IP", "GLOBAL", "SESSION", "USER", "RESOURCE"})


@dataclass(frozen=True, slots=True)
class InitCol:
    """``initcol:ip=%{REMOTE_ADDR}``: load the collection record for a key."""

    collection: str
    key: str
    name: str = "initcol"

    def execute(self, transaction: Transaction, rule: Rule) -> None:
        transaction.init_collection(self.collection, transaction.expand_macros(self.key))


@dataclass(frozen=True, slots=True)
class ExpireVar:
    """``expirevar:ip.blocked=60``: delete a variable after a number of seconds."""

    collection: str
    key: str
    seconds: str  # may contain macros
    name: str = "expirevar"

    def execute(self, transaction: Transaction, rule: Rule) -> None:
        seconds_text = transaction.expand_macros(self.seconds)
        if not seconds_text.strip().isdigit():
            return
        key = transaction.expand_macros(self.key)
        transaction.expire_variable(self.collection, key, int(seconds_text))


def build_initcol(value: str | None) -> InitCol:
    collection, equals, key = (value or "").partition("=")
    collection = collection.strip().upper()
    if not equals or collection not in PERSISTENT_COLLECTIONS:
        raise ValueError(f"initcol {value!r} must be COLLECTION=key with COLLECTION one of "
                         f"{sorted(PERSISTENT_COLLECTIONS)}")
    return InitCol(collection, key.strip())


def build_expirevar(value: str | None) -> ExpireVar:
    name, equals, seconds = (value or "").partition("=")
    collection, dot, key = name.strip().partition(".")
    if not equals or not dot:
        raise ValueError(f"expirevar {value!r} must be COLLECTION.name=SECONDS")
    return ExpireVar(collection.upper(), key, seconds.strip())
