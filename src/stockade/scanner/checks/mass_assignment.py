"""Mass assignment (API3:2023): privileged properties accepted and persisted.

For each operation that writes a JSON object and has a way to read the
object back, the scan adds properties the request schema does not declare
but that carry privilege (role, is_admin, balance and the like), with
distinctive values. A finding needs both: the write returned 2xx, and a
fresh read shows the value stored. After a PUT or PATCH the scan writes
the old values back through the same hole, so the test account keeps its
role. An object that a POST created is deleted where a delete operation exists.
"""

from __future__ import annotations

from typing import Any

from stockade.events.model import Severity
from stockade.scanner.auth import Session
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.resources import (
    collection_path,
    ids_in,
    is_admin_only,
    item_param,
    own_objects,
)
from stockade.scanner.values import merged

NAME = "mass-assignment"
SUMMARY = "Mass assignment: undeclared privileged properties are stored"
CATEGORY = "API3:2023"
CWE = 915
REMEDIATION = ("Bind request bodies to an explicit list of writable properties and reject "
               "(or ignore) every other one; never copy a body onto a stored object.")

PRIVILEGED_VALUES: dict[str, Any] = {
    "role": "admin",
    "roles": ["admin"],
    "is_admin": True,
    "isAdmin": True,
    "admin": True,
    "is_superuser": True,
    "permissions": ["*"],
    "balance": 913370,
    "credit": 913370,
    "account_type": "premium",
    "plan": "enterprise",
    "verified": True,
    "is_verified": True,
    "email_verified": True,
    "internal_notes": "stockade-mass-assignment",
}
"""Privileged properties tried and the value that marks each as written by the scan."""


async def run(ctx: ScanContext) -> list[Finding]:
    if not ctx.users:
        ctx.note("mass-assignment: skipped, it needs a user profile")
        return []
    # The last user, so that a role change does not disturb the first user's later checks.
    session = ctx.users[-1]
    findings = []
    for operation in ctx.operations:
        if operation.method not in ("POST", "PUT", "PATCH") or is_admin_only(operation):
            continue
        if not ctx.allows(operation) or operation.body_schema is None:
            continue
        check = _check_create if operation.method == "POST" else _check
        finding = await check(ctx, operation, session)
        if finding is not None:
            findings.append(finding)
    return findings


ItemOperations = tuple[Operation, Operation | None]


def _item_operations(ctx: ScanContext, collection: Operation) -> ItemOperations | None:
    """Find the GET (and DELETE, if any) on ``collection``'s item path, such as /orders/{id}."""
    for operation in ctx.api.operations:
        if (operation.method == "GET" and item_param(operation) is not None
                and collection_path(operation.path) == collection.path):
            return operation, ctx.api.find("DELETE", operation.path)
    return None


async def _check_create(ctx: ScanContext, operation: Operation,
                        session: Session) -> Finding | None:
    """Create an object with privileged properties added, read it back, then delete it."""
    items = _item_operations(ctx, operation)
    if items is None or operation.path_params:
        return None
    reader, deleter = items
    param = str(item_param(reader))
    extra = _undeclared(operation)
    created = await ctx.call(operation, session,
                             body={**ctx.values.body(operation.body_schema), **extra})
    ids = ids_in(created.json(), param) if created.ok else []
    if not ids:
        return None
    values = {param: ids[0]}
    stored = await ctx.call(reader, session, path_values=values)
    document = stored.json() if stored.ok else None
    persisted = sorted(name for name, value in extra.items()
                       if isinstance(document, dict) and document.get(name) == value)
    if deleter is not None and ctx.allows(deleter):
        await ctx.call(deleter, session, path_values=values, body=None)
    if not persisted:
        return None
    return _finding(ctx, operation, session, reader, persisted,
                    [(created, "the creation with privileged properties added"),
                     (stored, "the new object read back with the privileged values stored")],
                    "The scan deleted the object where a delete operation exists.")


def _undeclared(operation: Operation) -> dict[str, Any]:
    declared = set(merged(operation.body_schema or {}).get("properties") or {})
    return {name: value for name, value in PRIVILEGED_VALUES.items() if name not in declared}


async def _target(ctx: ScanContext, operation: Operation,
                  session: Session) -> dict[str, Any] | None:
    """Path values of an object the session may write, or None."""
    param = item_param(operation)
    if not operation.path_params:
        return {}
    if param is None:
        return None
    owned = await own_objects(ctx, session, operation)
    return {param: owned[0].object_id} if owned else None


async def _check(ctx: ScanContext, operation: Operation, session: Session) -> Finding | None:
    reader = ctx.api.find("GET", operation.path)
    values = await _target(ctx, operation, session)
    if reader is None or values is None:
        return None
    before = await ctx.call(reader, session, path_values=values)
    original = before.json()
    if not before.ok or not isinstance(original, dict):
        return None
    extra = _undeclared(operation)
    body = {**ctx.values.body(operation.body_schema), **extra}
    written = await ctx.call(operation, session, path_values=values, body=body)
    after = await ctx.call(reader, session, path_values=values)
    stored = after.json() if after.ok else None
    persisted = sorted(name for name, value in extra.items()
                       if isinstance(stored, dict) and stored.get(name) == value
                       and original.get(name) != value)
    declared_restore = {name: original[name] for name in body if name in original}
    if persisted:
        restore = {**declared_restore, **{name: original.get(name) for name in persisted}}
        await ctx.call(operation, session, path_values=values, body=restore)
    elif written.ok and declared_restore:
        await ctx.call(operation, session, path_values=values, body=declared_restore)
    if not written.ok or not persisted:
        return None
    return _finding(ctx, operation, session, reader, persisted,
                    [(before, "the object before"),
                     (written, "the write with privileged properties added"),
                     (after, "the object read back with the privileged values stored")],
                    "The scan wrote the old values back.")


def _finding(ctx: ScanContext, operation: Operation, session: Session, reader: Operation,
             persisted: list[str], evidence: list[tuple[Reply, str]], cleanup: str) -> Finding:
    return ctx.finding(
        kind="mass-assignment", check=NAME, severity=Severity.HIGH, category=CATEGORY,
        title=f"{operation.label} stores undeclared privileged properties",
        operation=operation, cwe=CWE, remediation=REMEDIATION,
        detail=(f"{operation.label} accepted and stored {', '.join(persisted)}, which its "
                f"request schema does not declare; {session.name} read them back through "
                f"{reader.label}. {cleanup}"),
        evidence=evidence)
