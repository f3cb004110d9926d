"""``application/x-www-form-urlencoded`` bodies into ARGS_POST."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockade.waf.bodies.arguments import add_arguments
from stockade.waf.urlencoding import split_form

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction


def parse(transaction: Transaction, body: bytes) -> None:
    pairs: list[tuple[bytes, bytes]] = []
    for name, value, invalid in split_form(body):
        if invalid:
            transaction.scalars["URLENCODED_ERROR"] = b"1"
        pairs.append((name, value))
    add_arguments(transaction, pairs)
