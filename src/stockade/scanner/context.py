"""The state one scan shares between its checks, and the way checks send requests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from stockade.events.model import Severity
from stockade.scanner.auth import Session
from stockade.scanner.canary import Canary
from stockade.scanner.client import Reply, ScanClient
from stockade.scanner.findings import Evidence, Finding
from stockade.scanner.openapi import ApiDocument, Operation
from stockade.scanner.planning import ScanSettings
from stockade.scanner.redaction import Redactor
from stockade.scanner.resources import OwnedObject, is_admin_only
from stockade.scanner.similarity import body_similarity
from stockade.scanner.values import ValueFactory

FALLBACK_SIMILARITY = 0.9
"""Body similarity above which a response counts as the target's catch-all response."""

_DEFAULT: Any = object()
"""Marks a body argument that was not given, so the operation's sample body is sent."""


@dataclass(slots=True)
class ScanContext:
    client: ScanClient
    api: ApiDocument
    settings: ScanSettings
    users: list[Session]
    admin: Session | None
    redactor: Redactor
    values: ValueFactory
    canary: Canary | None = None
    owned: dict[tuple[str, str], list[OwnedObject]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # checks skipped and why
    on_request: Callable[[], None] | None = None
    fallbacks: dict[str, Reply] = field(default_factory=dict)  # by method, see is_fallback

    @property
    def operations(self) -> list[Operation]:
        """The operations the scan selected, in document order."""
        return [op for op in self.api.operations if self.settings.selects(op)]

    def allows(self, operation: Operation) -> bool:
        return self.settings.selects(operation) and self.settings.method_allowed(operation.method)

    def session_for(self, operation: Operation) -> Session | None:
        """Return the identity that may legitimately call ``operation``."""
        if is_admin_only(operation) and self.admin is not None:
            return self.admin
        return self.users[0] if self.users else self.admin

    def note(self, text: str) -> None:
        self.notes.append(text)

    def fill_path(self, operation: Operation, values: dict[str, Any] | None = None) -> str:
        path = operation.url_path
        for param in operation.path_params:
            value = (values or {}).get(param.name, _DEFAULT)
            if value is _DEFAULT:
                value = self.values.sample(param.schema, param.name)
            path = path.replace("{" + param.name + "}", quote(str(value), safe=""))
        return path

    async def call(self, operation: Operation, session: Session | None, *,
                   path_values: dict[str, Any] | None = None,
                   query: dict[str, Any] | None = None, body: Any = _DEFAULT,
                   headers: dict[str, str] | None = None, content: bytes | None = None,
                   path: str | None = None) -> Reply:
        """Send ``operation`` as ``session`` (None: without credentials).

        Required query parameters and the body get sample values unless
        given; ``query`` values replace or add parameters.
        """
        params: dict[str, Any] = {}
        for param in operation.query_params:
            if param.required:
                params[param.name] = self.values.sample(param.schema, param.name)
        params.update(query or {})
        pairs = [(name, _query_text(value)) for name, value in params.items()]
        if body is _DEFAULT:
            body = (self.values.sample(operation.body_schema) if operation.body_schema is not None
                    and content is None else None)
        target = path if path is not None else self.fill_path(operation, path_values)
        return await self.send(operation.method, target, session, params=pairs, json_body=body,
                               headers=headers, content=content)

    async def send(self, method: str, path: str, session: Session | None, *,
                   params: list[tuple[str, str]] | None = None, json_body: Any = None,
                   headers: dict[str, str] | None = None, content: bytes | None = None) -> Reply:
        all_headers = dict(session.headers) if session is not None else {}
        all_headers.update(headers or {})
        all_params = list(session.params) if session is not None else []
        all_params += params or []
        reply = await self.client.send(method, path, headers=all_headers, params=all_params,
                                       json_body=json_body, content=content)
        if self.on_request is not None:
            self.on_request()
        return reply

    async def is_fallback(self, reply: Reply, method: str = "GET") -> bool:
        """Whether ``reply`` is what the target returns for any path (a catch-all route).

        Single-page apps and some gateways respond to every unknown path with 2xx
        and the same body; such a response proves nothing about an operation.
        """
        if method not in self.fallbacks:
            path = f"{self.client.target.base_path}/stockade-{self.values.marker()}"
            self.fallbacks[method] = await self.send(method, path, None)
        fallback = self.fallbacks[method]
        return fallback.ok and reply.ok and body_similarity(reply, fallback) >= FALLBACK_SIMILARITY

    def evidence(self, reply: Reply, note: str) -> Evidence:
        return self.redactor.evidence(reply, note)

    def finding(self, *, kind: str, check: str, title: str, severity: Severity, category: str,
                operation: Operation | None, detail: str, remediation: str,
                evidence: list[tuple[Reply, str]], cwe: int | None = None,
                method: str | None = None, path: str | None = None) -> Finding:
        found_path = path or (operation.path if operation else "/")
        on_operation = operation is not None and found_path == operation.path
        return Finding(
            kind=kind, check=check, title=title, severity=severity, category=category,
            method=method or (operation.method if operation else "*"),
            path=found_path, detail=detail, remediation=remediation, cwe=cwe,
            evidence=[self.evidence(reply, note) for reply, note in evidence],
            url_path=operation.url_path if operation is not None and on_operation else found_path)


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
