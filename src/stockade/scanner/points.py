"""Injection points: one parameter of one operation, and how to send a value in it.

A point keeps the rest of the request fixed (the other parameters and
body members get one sample value for the whole scan), so that two
responses differ only because of the value under test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stockade.scanner.auth import Session
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.openapi import Operation
from stockade.scanner.values import merged, schema_type

INJECTABLE_TYPES = ("string", "integer", "number")


@dataclass(slots=True)
class InjectionPoint:
    operation: Operation
    location: str  # query, path or body
    name: str
    kind: str  # string, integer or number
    schema: dict[str, Any]
    base: Any  # the value sent when this point is not under test
    session: Session | None
    query: dict[str, Any]
    body: dict[str, Any] | None
    path_values: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.location} parameter '{self.name}' of {self.operation.label}"

    @property
    def is_url(self) -> bool:
        return str(self.schema.get("format", "")) in ("uri", "url", "iri")

    async def send(self, ctx: ScanContext, value: Any) -> Reply:
        query, body, path_values = dict(self.query), self.body, dict(self.path_values)
        if self.location == "query":
            query[self.name] = value
        elif self.location == "path":
            path_values[self.name] = value
        else:
            body = {**(self.body or {}), self.name: value}
        return await ctx.call(self.operation, self.session, path_values=path_values,
                              query=query, body=body)

    async def send_raw_query(self, ctx: ScanContext, name: str, value: str) -> Reply:
        """Send with an extra query parameter whose name is not this point's (``name[$ne]``)."""
        query = {key: val for key, val in self.query.items() if key != self.name}
        query[name] = value
        return await ctx.call(self.operation, self.session, path_values=self.path_values,
                              query=query, body=self.body)


def base_body(ctx: ScanContext, operation: Operation) -> dict[str, Any] | None:
    """Build the body sent with every probe of ``operation``: real credentials for a login."""
    if operation.body_schema is None:
        return None
    for session in [*ctx.users, *([ctx.admin] if ctx.admin else [])]:
        if (session.login_path is not None and operation.has_path(session.login_path)
                and session.login_body is not None):
            return dict(session.login_body)
    sample = ctx.values.sample(operation.body_schema)
    return sample if isinstance(sample, dict) else None


def points_of(ctx: ScanContext, operation: Operation,
              path_values: dict[str, Any]) -> list[InjectionPoint]:
    """List the injectable parameters of ``operation``, path parameters on GET only."""
    session = ctx.session_for(operation) if operation.requires_auth else None
    query = {param.name: ctx.values.sample(param.schema, param.name)
             for param in operation.query_params if param.required}
    body = base_body(ctx, operation)
    points: list[InjectionPoint] = []

    def add(location: str, name: str, schema: dict[str, Any], base: Any) -> None:
        kind = schema_type(merged(schema))
        if kind in INJECTABLE_TYPES:
            points.append(InjectionPoint(operation, location, name, kind, merged(schema), base,
                                         session, query, body, path_values))

    for param in operation.query_params:
        add("query", param.name, param.schema,
            query.get(param.name, ctx.values.sample(param.schema, param.name)))
    if operation.method == "GET":
        for param in operation.path_params:
            add("path", param.name, param.schema,
                path_values.get(param.name, ctx.values.sample(param.schema, param.name)))
    properties = merged(operation.body_schema or {}).get("properties") or {}
    for name, value in (body or {}).items():
        schema = properties.get(name) if isinstance(properties.get(name), dict) else {}
        add("body", name, schema or {}, value)
    return points
