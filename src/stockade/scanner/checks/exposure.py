"""Excessive data exposure (API3:2023): sensitive fields the schema does not declare.

Every GET operation is called as a caller who may use it. A member of the
JSON response that the response schema does not declare is reported when
its name suggests a secret or personal data (``password_hash``, ``ssn``).
It is also reported when ``stockade.protection.sensitive`` recognizes its
value (a card number, a national id, a key). Declared fields are the API
owner's decision and are not reported.
"""

from __future__ import annotations

import asyncio
from typing import Any

from stockade.events.model import Severity
from stockade.protection.sensitive import find_sensitive
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.redaction import is_sensitive_name
from stockade.scanner.resources import own_path_values
from stockade.scanner.values import merged, schema_type

NAME = "exposure"
SUMMARY = "Excessive data exposure: undeclared sensitive fields in responses"
CATEGORY = "API3:2023"
CWE = 213
REMEDIATION = ("Serialize responses through an explicit view of the declared properties; "
               "never return stored records as they are.")
MAX_ITEMS_INSPECTED = 50
"""Array elements of one response that are compared with the schema."""


async def run(ctx: ScanContext) -> list[Finding]:
    operations = [op for op in ctx.operations if op.method == "GET" and ctx.allows(op)]
    found = await asyncio.gather(*(_check(ctx, operation) for operation in operations))
    return [finding for finding in found if finding is not None]


async def _check(ctx: ScanContext, operation: Operation) -> Finding | None:
    session = ctx.session_for(operation) if operation.requires_auth else None
    values = await own_path_values(ctx, session, operation)
    reply = await ctx.call(operation, session, path_values=values)
    schema = operation.response_schema(reply.status) if reply.ok else None
    document = reply.json()
    if not isinstance(schema, dict) or not schema or document is None:
        return None
    leaked = sorted(set(undeclared_sensitive(document, schema, "")))
    if not leaked:
        return None
    return ctx.finding(
        kind="excessive-data-exposure", check=NAME, severity=Severity.HIGH,
        category=CATEGORY, operation=operation, cwe=CWE, remediation=REMEDIATION,
        title=f"{operation.label} returns undeclared sensitive fields",
        detail=(f"The response carries {', '.join(leaked)}, which the response schema "
                "does not declare and which hold secrets or personal data."),
        evidence=[(reply, "the response (values of the leaked fields redacted)")])


def undeclared_sensitive(document: Any, schema: dict[str, Any], prefix: str) -> list[str]:
    """JSON pointers of undeclared members that look sensitive, descending into arrays."""
    schema = merged(schema)
    if isinstance(document, list):
        items: dict[str, Any] = schema["items"] if isinstance(schema.get("items"), dict) else {}
        found: list[str] = []
        for element in document[:MAX_ITEMS_INSPECTED]:
            found += undeclared_sensitive(element, items, prefix + "/*")
        return found
    if not isinstance(document, dict) or schema_type(schema) != "object":
        return []
    properties = schema.get("properties") or {}
    open_schema = not properties and schema.get("additionalProperties") in (None, True)
    found = []
    for name, value in document.items():
        pointer = f"{prefix}/{name}"
        if name in properties:
            sub = properties[name] if isinstance(properties[name], dict) else {}
            found += undeclared_sensitive(value, sub, pointer)
        elif not open_schema and _sensitive(name, value):
            found.append(pointer)
    return found


def _sensitive(name: str, value: Any) -> bool:
    if value in (None, "", [], {}):
        return False
    if is_sensitive_name(name):
        return True
    return isinstance(value, str) and bool(find_sensitive(value))
