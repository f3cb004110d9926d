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
    body: dict[str, Any]  # a real user's credentials
    user_field: str
    password_field: str
    username: str

    def attempt(self, username: str, password: str) -> dict[str, Any]:
        return {**self.body, self.user_field: username, self.password_field: password}


def _fields(operation: Operation) -> tuple[str, str] | None:
    properties = merged(operation.body_schema or {}).get("properties") or {}
    password = next((name for name in properties if "password" in name.lower()), None)
    user = next((name for name in properties
                 if any(word in name.lower() for word in ("user", "login", "email"))), None)
    return (user, password) if user and password else None


def find_login(ctx: ScanContext) -> LoginForm | None:
    """The login operation, from a login profile or from the document's paths."""
    sessions: list[Session] = [*ctx.users, *([ctx.admin] if ctx.admin else [])]
    for session in sessions:
        if session.login_path and session.login_body and session.username:
            operation = next((op for op in ctx.api.operations
                              if op.method == "POST" and op.url_path == session.login_path), None)
            fields = _fields(operation) if operation is not None else None
            if operation is not None and fields is not None:
                return LoginForm(operation, session.login_body, fields[0], fields[1],
                                 session.username)
    return None


def find_registration(ctx: ScanContext) -> list[Operation]:
    return [op for op in ctx.operations if op.method == "POST"
            and any(word in split(op.path)[-1:] for word in REGISTER_WORDS)]


def wrong_password() -> str:
    return f"Wrong-{secrets.token_hex(8)}"


def unknown_username() -> str:
    return f"stockade-nobody-{secrets.token_hex(5)}"
