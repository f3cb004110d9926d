"""BFLA (API5:2023): a normal user's credentials on admin-only operations.

Admin-only operations are the ones the document marks so
(``x-required-role``, an ``admin`` tag or path segment). A read is
confirmed when the user gets what the admin gets. A creation is confirmed
by a 2xx response carrying the new object. A deletion is confirmed when
the admin can no longer read the object, one the admin created for the test. Objects
the test creates are deleted again where the API allows it.
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
    ids_in,
    is_admin_only,
    item_param,
    own_path_values,
    resource_name,
    split,
)
from stockade.scanner.similarity import looks_like_failure, same_data

NAME = "bfla"
SUMMARY = "Broken function level authorization: normal users run admin operations"
CATEGORY = "API5:2023"
CWE = 285
REMEDIATION = ("Enforce the role an operation needs on the server for every call; deny by "
               "default and respond with 403 to callers without it.")


async def run(ctx: ScanContext) -> list[Finding]:
    if not ctx.users:
        ctx.note("bfla: skipped, it needs a user profile")
        return []
    user = ctx.users[0]
    findings: list[Finding] = []
    for operation in ctx.operations:
        if not is_admin_only(operation) or not ctx.allows(operation):
            continue
        if operation.method in ("GET", "HEAD"):
            finding = await _check_read(ctx, operation, user)
        elif operation.method == "DELETE":
            finding = await _check_delete(ctx, operation, user)
        else:
            finding = await _check_write(ctx, operation, user)
        if finding is not None:
            findings.append(finding)
    return findings


def _finding(ctx: ScanContext, operation: Operation, user: Session, detail: str,
             evidence: list[tuple[Reply, str]]) -> Finding:
    return ctx.finding(
        kind="bfla", check=NAME, title=f"Normal user runs admin-only {operation.label}",
        severity=Severity.HIGH, category=CATEGORY, operation=operation, cwe=CWE,
        detail=detail, remediation=REMEDIATION, evidence=evidence)


async def _check_read(ctx: ScanContext, operation: Operation, user: Session) -> Finding | None:
    values: dict[str, Any] = {}
    if operation.path_params:
        # An object the admin lists, so that both callers ask for something that exists.
        values = await own_path_values(ctx, ctx.admin, operation)
        if not values:
            return None
    as_user = await ctx.call(operation, user, path_values=values)
    if not as_user.ok or looks_like_failure(as_user) or await ctx.is_fallback(as_user):
        return None
    evidence = [(as_user, f"{user.name} (role user) is served")]
    if ctx.admin is not None:
        as_admin = await ctx.call(operation, ctx.admin, path_values=values)
        if not same_data(as_admin, as_user):
            return None
        evidence.insert(0, (as_admin, f"{ctx.admin.name} (role admin) reads the same data"))
    return _finding(ctx, operation, user,
                    f"{operation.label} is admin-only but returned {as_user.status} with the "
                    f"admin's data to {user.name}, a normal user.", evidence)


async def _check_write(ctx: ScanContext, operation: Operation, user: Session) -> Finding | None:
    if operation.path_params:
        return None
    as_user = await ctx.call(operation, user)
    if (not as_user.ok or looks_like_failure(as_user)
            or await ctx.is_fallback(as_user, operation.method)):
        return None
    await _delete_created(ctx, operation, as_user)
    return _finding(ctx, operation, user,
                    f"{operation.label} is admin-only but {user.name}, a normal user, got "
                    f"{as_user.status}: the operation ran. The scan deleted what it created "
                    "where a delete operation exists.",
                    [(as_user, f"{user.name} (role user) runs the operation")])


async def _delete_created(ctx: ScanContext, creator: Operation, reply: Reply) -> None:
    """Delete the object a successful creation made, as admin, when the API allows it."""
    name = split(creator.path)[-1] if split(creator.path) else ""
    for operation in ctx.api.operations:
        param = item_param(operation)
        if (operation.method == "DELETE" and param is not None
                and resource_name(operation.path) == name and ctx.admin is not None):
            for object_id in ids_in(reply.json(), param)[:1]:
                await ctx.call(operation, ctx.admin, path_values={param: object_id}, body=None)
            return


async def _check_delete(ctx: ScanContext, operation: Operation, user: Session) -> Finding | None:
    param = item_param(operation)
    reader = ctx.api.find("GET", operation.path)
    if param is None or reader is None or ctx.admin is None:
        ctx.note(f"bfla: {operation.label} not tested, it needs an admin profile and a read "
                 "operation on the same path")
        return None
    victim = await create_object(ctx, ctx.admin, operation)
    if victim is None:
        ctx.note(f"bfla: {operation.label} not tested, no operation creates an object to delete")
        return None
    values: dict[str, Any] = {param: victim}
    before = await ctx.call(reader, ctx.admin, path_values=values)
    as_user = await ctx.call(operation, user, path_values=values, body=None)
    after = await ctx.call(reader, ctx.admin, path_values=values)
    if as_user.ok and before.ok and after.status in (404, 410):
        return _finding(ctx, operation, user,
                        f"{operation.label} is admin-only but {user.name}, a normal user, "
                        f"deleted object {victim}, which the admin had just created.",
                        [(before, "the admin reads the object it created"),
                         (as_user, f"{user.name} (role user) deletes it"),
                         (after, "the admin finds it gone")])
    if after.ok:
        await ctx.call(operation, ctx.admin, path_values=values, body=None)
    return None
