"""BOLA (API1:2023): one user's credentials on another user's objects.

User A's objects are the ones A lists, reads as its own or creates. User B
then reads, changes or deletes them. A read is confirmed when B gets the
same object A reads (status and body similarity), and only for objects
that do not appear in B's own listing and that are not public. A change
is confirmed when A reads back the value B wrote, a deletion when A can no
longer read the object. Changes are undone, and only objects the scan
created are deleted.
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
    create_object,
    is_admin_only,
    item_param,
    own_objects,
)
from stockade.scanner.similarity import same_data
from stockade.scanner.values import schema_type

NAME = "bola"
SUMMARY = "Broken object level authorization: users reach each other's objects"
CATEGORY = "API1:2023"
CWE = 639
REMEDIATION = ("Check on every object access that the caller owns the object (or holds a role "
               "that may access it), and respond with 404 otherwise.")


async def run(ctx: ScanContext) -> list[Finding]:
    if len(ctx.users) < 2:
        ctx.note("bola: skipped, it needs two user profiles")
        return []
    owner, other = ctx.users[0], ctx.users[1]
    findings: list[Finding] = []
    for operation in ctx.operations:
        param = item_param(operation)
        if param is None or not operation.requires_auth or is_admin_only(operation):
            continue
        if not ctx.allows(operation):
            continue
        reader = ctx.api.find("GET", operation.path)
        if operation.method == "GET":
            finding = await _check_read(ctx, operation, param, owner, other)
        elif operation.method in ("PUT", "PATCH") and reader is not None:
            finding = await _check_write(ctx, operation, reader, param, owner, other)
        elif operation.method == "DELETE" and reader is not None:
            finding = await _check_delete(ctx, operation, reader, param, owner, other)
        else:
            continue
        if finding is not None:
            findings.append(finding)
    return findings


async def _foreign_ids(ctx: ScanContext, operation: Operation, owner: Session,
                       other: Session) -> list[Any]:
    """Ids the owner has and the other user does not."""
    mine = await own_objects(ctx, owner, operation)
    theirs = {item.object_id for item in await own_objects(ctx, other, operation)}
    return [item.object_id for item in mine if item.object_id not in theirs]


async def _check_read(ctx: ScanContext, operation: Operation, param: str, owner: Session,
                      other: Session) -> Finding | None:
    for object_id in await _foreign_ids(ctx, operation, owner, other):
        values = {param: object_id}
        as_owner = await ctx.call(operation, owner, path_values=values)
        if not as_owner.ok:
            continue
        anonymous = await ctx.call(operation, None, path_values=values)
        if anonymous.ok:
            continue  # public, or missing authentication: the authentication check reports it
        as_other = await ctx.call(operation, other, path_values=values)
        if same_data(as_owner, as_other):
            return ctx.finding(
                kind="bola", check=NAME, title=f"{other.name} reads {owner.name}'s object",
                severity=Severity.HIGH, category=CATEGORY, operation=operation, cwe=CWE,
                detail=(f"{operation.label} returned {owner.name}'s object {object_id} to "
                        f"{other.name}, with the same body the owner gets."),
                remediation=REMEDIATION,
                evidence=[(as_owner, f"{owner.name} reads its own object"),
                          (anonymous, "without credentials the object is refused"),
                          (as_other, f"{other.name} gets the same object")])
    return None


def _probe_body(ctx: ScanContext, operation: Operation) -> tuple[dict[str, Any], str | None]:
    """Build a valid body and name the string property that carries a fresh marker."""
    body = ctx.values.body(operation.body_schema)
    properties = (operation.body_schema or {}).get("properties") or {}
    for name in body:
        if isinstance(body[name], str) and schema_type(properties.get(name) or {}) == "string":
            return body, name
    return body, None


async def _check_write(ctx: ScanContext, operation: Operation, reader: Operation, param: str,
                       owner: Session, other: Session) -> Finding | None:
    body, marked = _probe_body(ctx, operation)
    if marked is None:
        return None
    for object_id in await _foreign_ids(ctx, operation, owner, other):
        values = {param: object_id}
        before = await ctx.call(reader, owner, path_values=values)
        original = before.json()
        if not before.ok or not isinstance(original, dict):
            continue
        as_other = await ctx.call(operation, other, path_values=values, body=body)
        after = await ctx.call(reader, owner, path_values=values)
        changed = isinstance(after.json(), dict) and after.json().get(marked) == body[marked]
        if changed:
            restore = {name: original[name] for name in body if name in original}
            await ctx.call(operation, owner, path_values=values, body=restore)
        if as_other.ok and changed:
            return ctx.finding(
                kind="bola", check=NAME, title=f"{other.name} changes {owner.name}'s object",
                severity=Severity.HIGH, category=CATEGORY, operation=operation, cwe=CWE,
                detail=(f"{operation.label} let {other.name} change '{marked}' of "
                        f"{owner.name}'s object {object_id}, and the owner reads the new value "
                        "back. The scan restored the old value."),
                remediation=REMEDIATION,
                evidence=[(before, f"{owner.name}'s object before"),
                          (as_other, f"{other.name} writes to it"),
                          (after, f"{owner.name} reads back the value {other.name} wrote")])
    return None


async def _check_delete(ctx: ScanContext, operation: Operation, reader: Operation, param: str,
                        owner: Session, other: Session) -> Finding | None:
    object_id = await create_object(ctx, owner, operation)
    if object_id is None:
        ctx.note(f"bola: {operation.label} not tested, no operation creates an object to delete")
        return None
    values = {param: object_id}
    before = await ctx.call(reader, owner, path_values=values)
    if not before.ok:
        return None
    as_other = await ctx.call(operation, other, path_values=values, body=None)
    after = await ctx.call(reader, owner, path_values=values)
    if as_other.ok and after.status in (404, 410):
        return ctx.finding(
            kind="bola", check=NAME, title=f"{other.name} deletes {owner.name}'s object",
            severity=Severity.HIGH, category=CATEGORY, operation=operation, cwe=CWE,
            detail=(f"{operation.label} let {other.name} delete object {object_id}, which "
                    f"{owner.name} had just created; the owner can no longer read it."),
            remediation=REMEDIATION,
            evidence=[(before, f"{owner.name} reads the object it created"),
                      (as_other, f"{other.name} deletes it"),
                      (after, f"{owner.name} finds it gone")])
    await _cleanup(ctx, operation, owner, values, after)
    return None


async def _cleanup(ctx: ScanContext, operation: Operation, owner: Session,
                   values: dict[str, Any], after: Reply) -> None:
    if after.ok:
        await ctx.call(operation, owner, path_values=values, body=None)
