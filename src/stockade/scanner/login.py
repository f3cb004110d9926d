"""The login and registration operations, and failed login attempts to send them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from stockade.scanner.auth import Session
from stockade.scanner.context import ScanContext
from stockade.scanner.openapi import Operation
from stockade.scanner.resources import split
from stockade.scanner.values import merged

LOGIN_WORDS = ("login", "signin", "sign-in", "authenticate", "session", "sessions", "token")
REGISTER_WORDS = ("register", "signup", "sign-up", "registration")


@dataclass(frozen=True, slots=True)
class LoginForm:
    operation: Operation
    body: dict[str, Any]  # a real user's credentials, or sample values
    user_field: str
    password_field: str
    username: str | None  # a username known to exist, when a login profile gave one

    def attempt(self, username: str, password: str) -> dict[str, Any]:
        return {**self.body, self.user_field: username, self.password_field: password}


def _fields(operation: Operation) -> tuple[str, str] | None:
    properties = merged(operation.body_schema or {}).get("properties") or {}
    password = next((name for name in properties if "password" in name.lower()), None)
    user = next((name for name in properties
                 if any(word in name.lower() for word in ("user", "login", "email"))), None)
    return (user, password) if user and password else None


def find_login(ctx: ScanContext) -> LoginForm | None:
    """Find the login operation: a login profile's, else a POST named like a login."""
    sessions: list[Session] = [*ctx.users, *([ctx.admin] if ctx.admin else [])]
    for session in sessions:
        if session.login_path and session.login_body and session.username:
            operation = next((op for op in ctx.api.operations if op.method == "POST"
                              and op.has_path(session.login_path)), None)
            fields = _fields(operation) if operation is not None else None
            if operation is not None and fields is not None:
                return LoginForm(operation, session.login_body, fields[0], fields[1],
                                 session.username)
    for operation in ctx.operations:
        segments = split(operation.path)
        fields = _fields(operation)
        if operation.method == "POST" and segments[-1:] and segments[-1] in LOGIN_WORDS \
                and fields is not None:
            body = ctx.values.sample(operation.body_schema)
            return LoginForm(operation, body if isinstance(body, dict) else {}, fields[0],
                             fields[1], None)
    return None


def find_registration(ctx: ScanContext) -> list[Operation]:
    return [op for op in ctx.operations if op.method == "POST"
            and any(word in split(op.path)[-1:] for word in REGISTER_WORDS)]


def wrong_password() -> str:
    return f"Wrong-{secrets.token_hex(8)}"


def unknown_username() -> str:
    return f"stockade-nobody-{secrets.token_hex(5)}"
