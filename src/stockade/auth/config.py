"""The ``auth`` policy section: which credentials a route accepts and how they are checked.

Every method is off until its section is set. A route may accept several:
the first credential the request carries decides, in the order API key,
bearer token, Basic, client certificate (see ``stage.AuthStage``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from stockade.config.base import ConfigPath, StrictModel

JwtAlgorithm = Literal[
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
]
"""Signature algorithms a token may use; ``none`` is not among them and never will be."""

UnknownConsumers = Literal["accept", "reject"]


class ApiKeyAuth(StrictModel):
    header: str | None = Field(
        "X-API-Key",
        pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$",
        description="Request field that carries the key; null for none.",
    )
    query_parameter: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._~-]{1,64}$",
        description="Query parameter that carries the key; off by default, as URLs end up in logs.",
    )

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if self.header is None and self.query_parameter is None:
            raise ValueError("api_key needs a header or a query_parameter to read the key from")
        return self


class JwtKey(StrictModel):
    """One verification key given inline, as PEM or as a JWK."""

    kid: str | None = Field(
        None, description="Key id matched against the token's 'kid'; the JWK's own kid otherwise."
    )
    pem: str | None = Field(
        None, description="PEM public key or certificate (RSA, EC or Ed25519/Ed448)."
    )
    jwk: dict[str, Any] | None = Field(None, description="A JWK; 'oct' keys hold HMAC secrets.")

    @model_validator(mode="after")
    def _one_form(self) -> JwtKey:
        if (self.pem is None) == (self.jwk is None):
            raise ValueError("a JWT key needs exactly one of 'pem' or 'jwk'")
        return self


class JwtIssuer(StrictModel):
    issuer: str = Field(min_length=1, description="Expected 'iss' claim, compared exactly.")
    audiences: list[str] = Field(
        default_factory=list,
        description="The token's 'aud' must name one of these; empty skips the check.",
    )
    algorithms: list[JwtAlgorithm] = Field(
        min_length=1, description="Algorithms accepted from this issuer."
    )
    keys: list[JwtKey] = Field(default_factory=list)
    jwks_file: ConfigPath | None = Field(None, description="Path to a JWKS document, read at load.")
    jwks_url: str | None = Field(
        None, description="http(s) URL of the issuer's JWKS, cached and refreshed."
    )
    tls_ca_bundle: ConfigPath | None = Field(
        None, description="PEM CAs that verify the jwks_url server; the system's CAs otherwise."
    )
    jwks_refresh_seconds: float = Field(
        300.0, ge=1, description="Seconds between background JWKS refreshes."
    )
    jwks_refetch_cooldown_seconds: float = Field(
        30.0, ge=1, description="Minimum seconds between refetches caused by an unknown 'kid'."
    )
    jwks_max_refetches_per_hour: int = Field(
        20,
        ge=1,
        le=3600,
        description="Cap on unknown-'kid' refetches per hour, so clients cannot force a storm.",
    )
    clock_skew_seconds: float = Field(
        30.0, ge=0, le=600, description="Leeway for exp, nbf and iat."
    )
    max_age_seconds: float | None = Field(
        None, gt=0, description="Reject tokens whose 'iat' is older than this."
    )
    required_claims: list[str] = Field(
        default_factory=lambda: ["exp"],
        description="Claims a token must carry, e.g. exp, iat, nbf.",
    )
    consumer_claim: str = Field("sub", description="Claim whose value names the consumer.")
    groups_claim: str | None = Field(
        None, description="Claim holding the consumer's groups as a list."
    )
    scopes_claim: str = Field(
        "scope", description="Claim holding scopes, space-separated or a list."
    )
    unknown_consumers: UnknownConsumers = Field(
        "accept",
        description="accept: a valid token of an unlisted subject becomes consumer <claim value>.",
    )

    @field_validator("jwks_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError(f"jwks_url {value!r} must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _check_keys(self) -> JwtIssuer:
        sources = sum(1 for source in (self.keys, self.jwks_file, self.jwks_url) if source)
        if sources != 1:
            raise ValueError(
                f"issuer {self.issuer!r} needs exactly one of keys, jwks_file or jwks_url"
            )
        hmac = {alg for alg in self.algorithms if alg.startswith("HS")}
        if hmac and len(hmac) != len(self.algorithms):
            raise ValueError(
                f"issuer {self.issuer!r} mixes HMAC ({sorted(hmac)}) with public-key algorithms; "
                "an HMAC secret and a public key must never be accepted for the same issuer"
            )
        if hmac and self.jwks_url:
            raise ValueError(f"issuer {self.issuer!r}: HMAC secrets cannot come from a jwks_url")
        return self


class JwtAuth(StrictModel):
    issuers: list[JwtIssuer] = Field(min_length=1)
    max_token_bytes: int = Field(
        8192, ge=256, le=65536, description="Longer bearer tokens are rejected unread."
    )

    @model_validator(mode="after")
    def _unique_issuers(self) -> JwtAuth:
        names = [item.issuer for item in self.issuers]
        if len(set(names)) != len(names):
            raise ValueError("jwt.issuers lists the same issuer twice")
        return self


class IntrospectionAuth(StrictModel):
    """OAuth 2.0 token introspection (RFC 7662) against the tenant's authorization server."""

    endpoint: str = Field(description="http(s) URL of the introspection endpoint.")
    tls_ca_bundle: ConfigPath | None = Field(
        None, description="PEM CAs that verify the endpoint's server; the system's CAs otherwise."
    )
    client_id: str = Field(min_length=1)
    client_secret_env: str = Field(
        min_length=1,
        description="Environment variable holding the client secret (kept out of the config).",
    )
    client_auth: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"
    timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="Seconds allowed for one introspection call."
    )
    cache_seconds: float = Field(
        60.0, ge=0, description="Maximum seconds an active response is cached; never past 'exp'."
    )
    negative_cache_seconds: float = Field(
        10.0, ge=0, description="Seconds an inactive response is cached."
    )
    cache_max_entries: int = Field(
        10_000, ge=0, le=1_000_000, description="Responses cached per worker."
    )
    issuer: str | None = Field(None, description="Issuer name used to map subjects to consumers.")
    consumer_claim: str = Field(
        "sub", description="Answer member naming the consumer; client_id if absent."
    )
    unknown_consumers: UnknownConsumers = "accept"

    @field_validator("endpoint")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"introspection endpoint {value!r} must be an http:// or https:// URL")
        return value


class BasicAuth(StrictModel):
    max_concurrent_checks: int = Field(
        4,
        ge=1,
        le=64,
        description="scrypt checks run at once per worker; more wait, bounding CPU and memory.",
    )
    cache_seconds: float = Field(
        60.0,
        ge=0,
        le=3600,
        description="Time a verified user name and password skip the slow hash.",
    )


class MtlsAuth(StrictModel):
    ca_bundle: ConfigPath | None = Field(
        None, description="PEM CAs that issue client certificates; tenant or service level only."
    )
    required: bool = Field(
        True, description="Reject requests without a verified client certificate."
    )
    unknown_consumers: UnknownConsumers = Field(
        "reject",
        description="accept: a verified certificate of no listed consumer is consumer <subject>.",
    )


class AuthPolicy(StrictModel):
    required: bool = Field(True, description="Reject requests that carry no credential at all.")
    realm: str = Field(
        "stockade", pattern=r'^[^"\\\x00-\x1f]{1,64}$', description="Realm named in challenges."
    )
    hide_credentials: bool = Field(
        True,
        description="Remove API keys and Basic credentials before forwarding; bearer tokens pass.",
    )
    consumer_header: str | None = Field(
        "X-Consumer-Id",
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="Request field that tells the upstream the consumer id; null sends none. "
        "A copy sent by the client is always removed.",
    )
    groups_header: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="Request field that tells the upstream the consumer's groups, comma-separated.",
    )
    api_key: ApiKeyAuth | None = None
    jwt: JwtAuth | None = None
    introspection: IntrospectionAuth | None = None
    basic: BasicAuth | None = None
    mtls: MtlsAuth | None = None

    def any_method(self) -> bool:
        return any(
            item is not None
            for item in (self.api_key, self.jwt, self.introspection, self.basic, self.mtls)
        )
