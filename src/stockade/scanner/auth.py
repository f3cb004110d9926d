"""Auth profiles: the identities a scan acts as, and how each one authenticates.

A profile is a bearer token, an API key (header, query or cookie), HTTP
basic credentials, or a login request whose JSON response carries a token.
Each has a role, ``user`` or ``admin``: the access-control checks need at
least two users, and BFLA is confirmed best with an admin to compare with.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stockade.scanner.client import ScanClient, ScanRequestError, TargetError

ROLES = ("user", "admin")

DEFAULT_LOGIN_BODY = {"username": "{username}", "password": "{password}"}
DEFAULT_TOKEN_POINTER = "/token"  # noqa: S105 - a JSON pointer, not a secret


class AuthError(ValueError):
    """A profile is invalid or its login failed; the message names the profile."""


class LoginSettings(BaseModel):
    """The login request of a login profile and where its response carries the token."""

    model_config = ConfigDict(extra="forbid")

    path: str
    body: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_LOGIN_BODY))
    token_pointer: str = DEFAULT_TOKEN_POINTER


class AuthProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    role: Literal["user", "admin"] = "user"
    type: Literal["bearer", "api_key", "basic", "login"]
    token: str | None = None
    key_name: str | None = None  # header, query parameter or cookie name of an API key
    key_in: Literal["header", "query", "cookie"] = "header"
    value: str | None = None
    username: str | None = None
    password: str | None = None
    login: LoginSettings | None = None

    @model_validator(mode="after")
    def _check_fields(self) -> AuthProfile:
        required = {
            "bearer": ("token",),
            "api_key": ("key_name", "value"),
            "basic": ("username", "password"),
            "login": ("username", "password", "login"),
        }[self.type]
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.type} profile needs {', '.join(missing)}")
        return self


@dataclass(slots=True)
class Session:
    """An authenticated identity: what to add to each request it sends."""

    name: str
    role: str
    headers: dict[str, str] = field(default_factory=dict)
    params: list[tuple[str, str]] = field(default_factory=list)
    token: str | None = None  # the bearer token, when the profile uses one
    username: str | None = None
    login_path: str | None = None
    login_body: dict[str, Any] | None = None  # the login body with the real credentials
    secrets: list[str] = field(default_factory=list)  # values redacted from evidence

    def with_token(self, token: str) -> Session:
        """Copy this session to send ``token`` as its bearer token."""
        return Session(self.name, self.role, {"Authorization": f"Bearer {token}"}, [],
                       token, self.username, self.login_path, self.login_body,
                       [*self.secrets, token])


def load_profiles(path: str | Path) -> list[AuthProfile]:
    """Read a YAML or JSON list of profiles (or a mapping with a ``profiles`` list)."""
    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AuthError(f"{file}: cannot read the auth profiles: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise AuthError(f"{file}: not valid YAML: {exc}") from None
    if isinstance(data, dict):
        data = data.get("profiles")
    if not isinstance(data, list):
        raise AuthError(f"{file}: expected a list of profiles or a 'profiles' list")
    profiles = []
    for index, item in enumerate(data):
        try:
            profiles.append(AuthProfile.model_validate(item))
        except ValidationError as exc:
            issues = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'profile'}: {err['msg']}"
                               for err in exc.errors())
            raise AuthError(f"{file}: profile {index + 1} is invalid: {issues}") from None
    return profiles


def login_profile(spec: str, role: str, login_path: str, body: dict[str, Any] | None = None,
                  token_pointer: str = DEFAULT_TOKEN_POINTER) -> AuthProfile:
    """Build a login profile from ``USERNAME:PASSWORD`` as given on the command line."""
    username, sep, password = spec.partition(":")
    if not sep or not username:
        raise AuthError(f"invalid credentials {username or spec!r}: use USERNAME:PASSWORD")
    return AuthProfile(name=username, role=role, type="login",
                       username=username, password=password,
                       login=LoginSettings(path=login_path, body=body or dict(DEFAULT_LOGIN_BODY),
                                           token_pointer=token_pointer))


def fill_template(node: Any, username: str, password: str) -> Any:
    """Replace {username} and {password} in the string values of a login body."""
    if isinstance(node, str):
        if node == "{password}":
            return password
        return node.replace("{username}", username).replace("{password}", password)
    if isinstance(node, dict):
        return {key: fill_template(value, username, password) for key, value in node.items()}
    if isinstance(node, list):
        return [fill_template(item, username, password) for item in node]
    return node


def json_pointer(document: Any, pointer: str) -> Any:
    """Return the value at an RFC 6901 JSON pointer, or None when it is absent."""
    node = document
    for token in pointer.split("/")[1:] if pointer else []:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


async def authenticate(client: ScanClient, profile: AuthProfile) -> Session:
    """Turn a profile into a session, logging in when the profile is a login request."""
    if profile.type == "bearer":
        token = str(profile.token)
        return Session(profile.name, profile.role, {"Authorization": f"Bearer {token}"},
                       token=token, secrets=[token])
    if profile.type == "basic":
        pair = f"{profile.username}:{profile.password}".encode()
        encoded = base64.b64encode(pair).decode()
        return Session(profile.name, profile.role, {"Authorization": f"Basic {encoded}"},
                       username=profile.username, secrets=[encoded, str(profile.password)])
    if profile.type == "api_key":
        name, value = str(profile.key_name), str(profile.value)
        session = Session(profile.name, profile.role, secrets=[value])
        if profile.key_in == "header":
            session.headers[name] = value
        elif profile.key_in == "query":
            session.params.append((name, value))
        else:
            session.headers["Cookie"] = f"{name}={value}"
        return session
    return await _login(client, profile)


async def _login(client: ScanClient, profile: AuthProfile) -> Session:
    settings = profile.login
    username, password = str(profile.username), str(profile.password)
    if settings is None:
        raise AuthError(f"profile {profile.name!r}: a login profile needs 'login'")
    body = fill_template(settings.body, username, password)
    try:
        reply = await client.send("POST", client.target.base_path + settings.path, json_body=body)
    except (TargetError, ScanRequestError) as exc:
        raise AuthError(f"profile {profile.name!r}: login request failed: {exc}") from None
    token = json_pointer(reply.json(), settings.token_pointer)
    if not reply.ok or not isinstance(token, str) or not token:
        raise AuthError(f"profile {profile.name!r}: login to {settings.path} returned "
                        f"{reply.status} without a token at {settings.token_pointer!r}; "
                        "check the credentials, the login path and --token-pointer")
    return Session(profile.name, profile.role, {"Authorization": f"Bearer {token}"},
                   token=token, username=username, login_path=settings.path,
                   login_body=body, secrets=[token, password])
