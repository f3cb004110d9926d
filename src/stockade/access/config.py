"""The ``access`` and ``cors`` policy sections."""

from __future__ import annotations

from pydantic import (
    Field,
    IPvAnyNetwork,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from stockade.config.base import StrictModel

ClaimValue = StrictBool | StrictInt | StrictStr
"""Strict, so that YAML true stays a boolean and never becomes 1."""


class ClaimCondition(StrictModel):
    """A test on one claim of the consumer's token; exactly one operator is set."""

    claim: str = Field(
        min_length=1, description="Claim name; dots walk into objects, e.g. org.tier."
    )
    equals: ClaimValue | None = None
    one_of: list[ClaimValue] | None = None
    contains: ClaimValue | None = Field(
        None, description="The claim is a list, or a space-separated string, holding this value."
    )

    @model_validator(mode="after")
    def _one_operator(self) -> ClaimCondition:
        count = sum(1 for item in (self.equals, self.one_of, self.contains) if item is not None)
        if count != 1:
            raise ValueError(
                f"claim condition on {self.claim!r} needs exactly one of equals, one_of, contains"
            )
        return self


class AccessPolicy(StrictModel):
    ip_allow: list[IPvAnyNetwork] = Field(
        default_factory=list, description="When set, only client addresses in these networks pass."
    )
    ip_deny: list[IPvAnyNetwork] = Field(
        default_factory=list, description="Client networks always denied."
    )
    groups_allow: list[str] = Field(
        default_factory=list, description="When set, the consumer must be in one of these groups."
    )
    groups_deny: list[str] = Field(
        default_factory=list, description="Consumers in any of these groups are denied."
    )
    consumers_allow: list[str] = Field(
        default_factory=list, description="When set, only these consumer ids pass."
    )
    consumers_deny: list[str] = Field(
        default_factory=list, description="Consumer ids always denied."
    )
    scopes: list[str] = Field(
        default_factory=list, description="Scopes the consumer's token must all carry."
    )
    claims: list[ClaimCondition] = Field(
        default_factory=list, description="Conditions that must all hold."
    )

    def has_ip_rules(self) -> bool:
        return bool(self.ip_allow or self.ip_deny)

    def has_consumer_rules(self) -> bool:
        return bool(
            self.groups_allow
            or self.groups_deny
            or self.consumers_allow
            or self.consumers_deny
            or self.scopes
            or self.claims
        )


class CorsPolicy(StrictModel):
    allow_origins: list[str] = Field(
        min_length=1,
        description="Origins allowed, exactly as browsers send them, e.g. https://app.example.com; "
        "'*' allows any origin but only without credentials.",
    )
    allow_credentials: bool = False
    allow_methods: list[str] = Field(default_factory=lambda: ["GET", "HEAD", "POST"])
    allow_headers: list[str] = Field(
        default_factory=list, description="Request fields a page may send."
    )
    expose_headers: list[str] = Field(
        default_factory=list, description="Response fields a page may read."
    )
    max_age_seconds: int = Field(
        600, ge=0, le=86400, description="How long browsers may cache a preflight."
    )

    @field_validator("allow_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin == "*":
                continue
            scheme, sep, rest = origin.partition("://")
            if (
                scheme not in ("http", "https")
                or not sep
                or not rest
                or "/" in rest
                or origin != origin.strip()
            ):
                raise ValueError(
                    f"CORS origin {origin!r} must be scheme://host[:port] with no path, "
                    "for example https://app.example.com"
                )
        return [origin.lower() for origin in value]

    @field_validator("allow_methods", "allow_headers", "expose_headers")
    @classmethod
    def _check_tokens(cls, value: list[str]) -> list[str]:
        for token in value:
            if not token or any(char in token for char in ' ,"\t\r\n') or not token.isascii():
                raise ValueError(f"{token!r} is not a valid HTTP method or field name")
        return value

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> CorsPolicy:
        if self.allow_credentials and "*" in self.allow_origins:
            raise ValueError(
                "cors: allow_credentials with allow_origins '*' would let any site make "
                "credentialed requests; list the allowed origins instead"
            )
        return self
