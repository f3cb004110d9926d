"""Helpers every body processor uses: body errors and the arguments limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockade.waf.request_vars import to_text

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction


def set_body_error(transaction: Transaction, message: str) -> None:
    """Flag the body as unparseable; only the first error is kept."""
    if transaction.scalars.get("REQBODY_ERROR") == b"1":
        return
    encoded = message.encode("utf-8", "surrogateescape")
    transaction.scalars["REQBODY_ERROR"] = b"1"
    transaction.scalars["REQBODY_PROCESSOR_ERROR"] = b"1"
    transaction.scalars["REQBODY_ERROR_MSG"] = encoded
    transaction.scalars["REQBODY_PROCESSOR_ERROR_MSG"] = encoded


def add_arguments(transaction: Transaction, pairs: list[tuple[bytes, bytes]]) -> None:
    """Add body arguments to ARGS_POST; past SecArgumentsLimit the body is an error.

    The excess is an error rather than silently dropped, so that padding a
    request with harmless arguments cannot push an attack out of view.
    """
    limit = transaction.engine.ruleset.settings.arguments_limit
    existing = len(transaction.collections["ARGS"])
    if existing + len(pairs) > limit:
        set_body_error(transaction, f"more than {limit} arguments (SecArgumentsLimit)")
        pairs = pairs[:max(0, limit - existing)]
    for name, value in pairs:
        transaction.add_argument("ARGS_POST", to_text(name), value)
