"""Request body processors: URL-encoded, multipart, JSON and XML.

The processor is the one a ``ctl:requestBodyProcessor`` chose, else the
one the Content-Type implies (multipart/form-data and
application/x-www-form-urlencoded), as in ModSecurity. A parse failure
sets REQBODY_ERROR and REQBODY_ERROR_MSG; the rules decide what to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stockade.waf.bodies import json_body, multipart, urlencoded, xml
from stockade.waf.bodies.arguments import set_body_error
from stockade.waf.matches import Interruption

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

BODY_TOO_LARGE_STATUS = 413
RAW_BODY_PROCESSORS = frozenset({None, "URLENCODED", "JSON"})


def media_type(transaction: Transaction) -> tuple[bytes, list[bytes]]:
    """Return the lower-cased media type of Content-Type and every field value seen."""
    values = transaction.request.header_values(b"content-type")
    if not values:
        return b"", values
    return values[0].partition(b";")[0].strip().lower(), values


def process_request_body(transaction: Transaction) -> None:
    if not transaction.request_body_access:
        return
    settings = transaction.engine.ruleset.settings
    body = transaction.request.body
    if transaction.request.body_truncated:
        transaction.scalars["INBOUND_DATA_ERROR"] = b"1"
    if len(body) > transaction.request_body_limit:
        transaction.scalars["INBOUND_DATA_ERROR"] = b"1"
        if settings.request_body_limit_action == "Reject":
            _reject_size(transaction)
            return
        body = body[:transaction.request_body_limit]
    _, content_types = media_type(transaction)
    processor = transaction.request_body_processor or default_processor(transaction)
    transaction.scalars["REQBODY_PROCESSOR"] = (processor or "").encode()
    transaction.scalars["REQUEST_BODY_LENGTH"] = str(len(body)).encode()
    if len({value.strip().lower() for value in content_types}) > 1 and processor:
        set_body_error(transaction, "multiple different Content-Type fields")
    elif processor == "URLENCODED":
        urlencoded.parse(transaction, body)
    elif processor == "MULTIPART":
        multipart.parse(transaction, body, content_types[0] if content_types else b"")
    elif processor == "JSON":
        json_body.parse(transaction, body)
    elif processor == "XML":
        xml.parse(transaction, body)
    # REQUEST_BODY contains the raw body for URL-encoded, JSON and unparsed
    # bodies, so rules such as 934210 also read JSON. Multipart parts and
    # XML text are inspected through ARGS, FILES and XML:/* instead, so that
    # file contents and XML element names are not matched as if they were
    # values, unless a rule forces it (ctl:forceRequestBodyVariable=On).
    if processor in RAW_BODY_PROCESSORS or transaction.force_request_body_variable:
        transaction.scalars["REQUEST_BODY"] = body
    if processor != "MULTIPART" and len(body) > settings.request_body_no_files_limit:
        _over_no_files_limit(transaction)


def default_processor(transaction: Transaction) -> str | None:
    """Return the processor the Content-Type implies, before any ctl changes it."""
    kind, _ = media_type(transaction)
    if kind == b"multipart/form-data":
        return "MULTIPART"
    if kind == b"application/x-www-form-urlencoded":
        return "URLENCODED"
    return None


def _reject_size(transaction: Transaction) -> None:
    if transaction.rule_engine == "On":
        transaction.interruption = Interruption(0, 2, BODY_TOO_LARGE_STATUS, "deny")


def _over_no_files_limit(transaction: Transaction) -> None:
    transaction.scalars["INBOUND_DATA_ERROR"] = b"1"
    if transaction.engine.ruleset.settings.request_body_limit_action == "Reject":
        _reject_size(transaction)
