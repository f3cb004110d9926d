"""The ``csrf`` policy section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from stockade.config.base import StrictModel

AmbientCredential = Literal["cookie", "basic", "client_certificate"]
"""Credentials a browser attaches to cross-site requests without the page's help."""

ALL_AMBIENT: tuple[AmbientCredential, ...] = ("cookie", "basic", "client_certificate")
MAX_TOKEN_AGE_SECONDS = 7 * 86400  # a week; longer-lived tokens outlast most sessions

_COOKIE_NAME_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
)
"""The RFC 6265 cookie-name characters (an RFC 9110 token)."""


def check_cookie_name(value: str) -> str:
    if not value or any(char not in _COOKIE_NAME_CHARS for char in value):
        raise ValueError(f"cookie name {value!r} must be a non-empty token (letters, digits, -_.)")
    return value


class CsrfCookie(StrictModel):
    """The cookie that carries the token the gateway issues."""

    name: str = Field(
        default="__Host-csrf",
        description="Cookie name; the __Host- prefix makes browsers refuse it from other hosts.",
    )
    secure: bool = Field(default=True, description="Send the Secure attribute: HTTPS only.")
    same_site: Literal["Strict", "Lax", "None"] = Field(
        default="Strict", description="SameSite attribute of the token cookie."
    )
    http_only: bool = Field(
        default=False,
        description="HttpOnly hides the cookie from scripts; the token is then sent in the "
        "token header of responses to safe requests instead.",
    )
    path: str = Field(default="/", description="Path attribute of the token cookie.")
    domain: str | None = Field(
        default=None, description="Domain attribute; unset keeps it host-only."
    )

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return check_cookie_name(value)

    @field_validator("path", "domain")
    @classmethod
    def _check_attribute(cls, value: str | None) -> str | None:
        if value is not None and (
            not value or not value.isascii() or any(char in value for char in ';,\r\n\t "')
        ):
            raise ValueError(f"cookie attribute {value!r} must be printable ASCII without ';'")
        return value

    @model_validator(mode="after")
    def _check_prefix(self) -> CsrfCookie:
        if self.name.startswith("__Host-") and (
            not self.secure or self.domain is not None or self.path != "/"
        ):
            raise ValueError(
                f"cookie {self.name!r}: a __Host- cookie needs secure: true, path '/' and no "
                "domain, or browsers drop it; rename it or change those settings"
            )
        if self.name.startswith("__Secure-") and not self.secure:
            raise ValueError(f"cookie {self.name!r}: a __Secure- cookie needs secure: true")
        if self.same_site == "None" and not self.secure:
            raise ValueError("cookie same_site 'None' needs secure: true, or browsers drop it")
        return self


class CsrfToken(StrictModel):
    """A token the gateway issues in a cookie and expects back in a request field."""

    mode: Literal["double_submit", "signed"] = Field(
        description="double_submit: the field must equal the cookie; signed: it must also carry "
        "a valid HMAC of the gateway's key, bound to the session cookie when one is named.",
    )
    header: str = Field(
        default="X-CSRF-Token",
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="Request field that carries the token back.",
    )
    cookie: CsrfCookie = CsrfCookie()
    max_age_seconds: int = Field(
        default=43200,
        ge=60,
        le=MAX_TOKEN_AGE_SECONDS,
        description="Lifetime of a token and of its cookie; signed tokens past it are rejected.",
    )
    key_env: str | None = Field(
        default=None,
        min_length=1,
        description="Environment variable holding the HMAC key (at least 32 bytes) for signed "
        "tokens; the key never appears in the config or in logs.",
    )
    previous_key_env: str | None = Field(
        default=None,
        min_length=1,
        description="Variable holding the key before a rotation; tokens it signed still pass.",
    )
    session_cookie: str | None = Field(
        default=None,
        description="Cookie whose value a signed token is bound to, so one session's token "
        "fails in another.",
    )

    @field_validator("session_cookie")
    @classmethod
    def _check_session_cookie(cls, value: str | None) -> str | None:
        return None if value is None else check_cookie_name(value)

    @model_validator(mode="after")
    def _check_mode(self) -> CsrfToken:
        if self.mode == "signed" and self.key_env is None:
            raise ValueError("csrf token mode 'signed' needs key_env naming the HMAC key variable")
        if self.mode == "double_submit" and (self.key_env or self.session_cookie):
            raise ValueError(
                "key_env and session_cookie apply to mode 'signed'; double_submit uses no key"
            )
        return self


class CsrfPolicy(StrictModel):
    strictness: Literal["strict", "lax"] = Field(
        default="strict",
        description="strict rejects an unsafe request that carries none of Sec-Fetch-Site, "
        "Origin and Referer; lax lets it pass with a security event.",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins whose pages may send unsafe requests, e.g. https://app.example.com.",
    )
    allow_same_origin: bool = Field(
        default=True, description="The request's own origin (scheme and Host) counts as allowed."
    )
    allow_cors_origins: bool = Field(
        default=True, description="Origins of the cors section (not '*') count as allowed."
    )
    credentials: list[AmbientCredential] = Field(
        default_factory=lambda: list(ALL_AMBIENT),
        description="Credentials that make a request subject to the check.",
    )
    session_cookies: list[str] = Field(
        default_factory=list,
        description="When set, only these cookies count as credentials; other cookies do not.",
    )
    check_all_requests: bool = Field(
        default=False, description="Check every unsafe request, with or without credentials."
    )
    json_only: bool | Literal["auto"] = Field(
        default="auto",
        description="Reject form-urlencoded, multipart/form-data and text/plain bodies; auto "
        "does so where the service's OpenAPI document declares only JSON request bodies.",
    )
    allow_content_types: list[str] = Field(
        default_factory=list,
        description="Media types a browser sends without preflight that stay allowed anyway.",
    )
    token: CsrfToken | None = Field(
        default=None, description="Issue and check a CSRF token as well."
    )

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            scheme, sep, rest = origin.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(
                    f"csrf origin {origin!r} must be scheme://host[:port] with no path, "
                    "for example https://app.example.com"
                )
        return [origin.lower() for origin in value]

    @field_validator("session_cookies")
    @classmethod
    def _check_cookie_names(cls, value: list[str]) -> list[str]:
        return [check_cookie_name(name) for name in value]

    @field_validator("allow_content_types")
    @classmethod
    def _check_media_types(cls, value: list[str]) -> list[str]:
        for media_type in value:
            kind, sep, subtype = media_type.partition("/")
            if not kind or not sep or not subtype or ";" in media_type or " " in media_type:
                raise ValueError(
                    f"media type {media_type!r} must be type/subtype without parameters, "
                    "for example text/plain"
                )
        return [media_type.lower() for media_type in value]
