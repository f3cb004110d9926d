"""The ``protection`` policy section: runtime API protection per tenant, service and route.

Every detector is off until its section is set. Each runs as its own layer,
so ``modes`` sets block or detect per detector: ``openapi``, ``bola``,
``bfla``, ``auth-signals``, ``abuse``, ``ssrf``, ``leaks`` and ``blocking``.
The defaults and where they come from are in docs/protection.md.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from stockade.config.base import StrictModel
from stockade.protection.sensitive import SensitiveClass

MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR

Severity = Literal["info", "low", "medium", "high", "critical"]
SourceKind = Literal["ip", "consumer", "api-key", "jwt-subject"]


def _check_redis_url(value: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"redis_url {value!r} must start with redis://, rediss:// or unix://")
    return value


class StateSettings(StrictModel):
    """Storage of BOLA ownership, abuse counters and the deny list."""

    store: Literal["memory", "redis"] = Field(
        default="memory",
        description="memory keeps state per worker process; redis shares it across nodes.",
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0", description="Redis used when store is redis."
    )
    redis_timeout_seconds: float = Field(
        default=0.25, gt=0, le=10, description="Seconds allowed per Redis call."
    )
    key_prefix: str = Field(
        default="stockade:prot", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:_.-]+$"
    )

    @field_validator("redis_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return _check_redis_url(value)


class IdentitySettings(StrictModel):
    """Identification of callers that no authentication stage identified as a consumer."""

    jwt_claim: str | None = Field(
        default=None,
        description="Claim of an unverified bearer JWT that names the caller, e.g. sub. "
        "Only for services whose backend verifies the token; the auth layer is the verified way.",
    )
    groups_claim: str | None = Field(
        default=None,
        description="Claim of that token holding the caller's role or groups, e.g. role.",
    )


class OpenApiProtection(StrictModel):
    unknown_operation: Literal["reject", "allow"] = Field(
        default="reject",
        description="A path or method the document does not declare: 404 or 405, or allow.",
    )
    validate_parameters: bool = Field(
        default=True, description="Check path, query, header and cookie parameters."
    )
    validate_body: bool = Field(
        default=True, description="Check JSON request bodies against their schema."
    )
    reject_undeclared_properties: bool = Field(
        default=False,
        description="Treat every request object schema as closed (mass assignment), "
        "even where the document allows additional properties.",
    )
    response_exposure: Literal["report", "strip", "reject"] = Field(
        default="strip",
        description="Block-mode action on exposed response properties (undeclared ones of a "
        "closed object, sensitive undeclared ones of an open one): remove them (strip) or "
        "withhold the response with 502 (reject); report only records them.",
    )
    sensitive_names: list[str] = Field(
        default_factory=list, description="More property names that count as sensitive, e.g. ssn."
    )


class BolaProtection(StrictModel):
    id_fields: list[str] = Field(
        default_factory=lambda: ["id"],
        min_length=1,
        description="Members of response objects that hold an object id.",
    )
    max_objects_per_consumer: int = Field(
        default=10_000,
        ge=10,
        le=1_000_000,
        description="Object ids remembered per consumer; oldest go first.",
    )
    ownership_ttl_seconds: float = Field(
        default=7 * DAY,
        gt=0,
        description="Seconds an object id stays known after it was last returned.",
    )
    block_after: int = Field(
        default=1,
        ge=1,
        description="Foreign-object requests by one caller within the enumeration window "
        "before BOLA rejects; the ones before are reported only.",
    )
    exempt_groups: list[str] = Field(
        default_factory=list, description="Groups that may read any object, e.g. admin."
    )
    enumeration_distinct_ids: int = Field(
        default=50,
        ge=2,
        description="Distinct ids of one resource per consumer in the window that count "
        "as enumeration.",
    )
    enumeration_window_seconds: float = Field(default=60.0, gt=0, le=DAY)
    sequential_run: int = Field(
        default=10,
        ge=3,
        description="Consecutive ids (n, n+1, ...) in a row that count as enumeration.",
    )


class RouteRoles(StrictModel):
    methods: list[str] = Field(default_factory=lambda: ["*"])
    path: str = Field(description="Path template, e.g. /api/v2/admin/{rest}, matched per segment.")
    roles: list[str] = Field(
        default_factory=list, description="Groups of which the caller needs one."
    )
    scopes: list[str] = Field(
        default_factory=list, description="Scopes the caller needs, all of them."
    )


class BflaProtection(StrictModel):
    rules: list[RouteRoles] = Field(default_factory=list)
    openapi_role_extension: str | None = Field(
        default="x-required-role",
        description="Operation extension naming the role it needs; null ignores it.",
    )
    learn: bool = Field(
        default=True, description="Report the first time a group calls a privileged route."
    )
    learn_ttl_seconds: float = Field(default=30 * DAY, gt=0)


class AuthSignals(StrictModel):
    tokens_in_url: bool = Field(default=True, description="Flag credentials in the query string.")
    weak_jwt: bool = Field(
        default=True,
        description="Reject JWTs with alg none or no signature; report "
        "HMAC keys from a list of well-known weak keys.",
    )
    reject_weak_key_tokens: bool = Field(
        default=False,
        description="Also reject every token signed with a well-known weak key. Off by "
        "default: such tokens are the backend's own, so rejecting them stops all its users.",
    )
    login_without_rate_limit: bool = Field(
        default=True,
        description="Report once per route when a declared login endpoint has no rate limit.",
    )
    url_credential_names: list[str] = Field(
        default_factory=lambda: [
            "access_token",
            "token",
            "api_key",
            "apikey",
            "key",
            "id_token",
            "refresh_token",
            "jwt",
            "auth",
            "password",
            "secret",
        ]
    )


class SuccessRule(StrictModel):
    """Recognition of a successful login response: every test that is set must hold."""

    status: list[int] = Field(default_factory=lambda: [200, 201, 204])
    header: str | None = Field(
        default=None, description="A response field present only on success."
    )
    json_field: str | None = Field(default=None, description="Top-level JSON member, e.g. ok.")
    json_value: bool | int | str | None = Field(default=True, description="Its value on success.")


class LoginEndpoint(StrictModel):
    method: str = "POST"
    path: str
    username_field: str = Field(
        default="username", description="JSON or form member with the username."
    )
    success: SuccessRule = SuccessRule()


class ParameterWatch(StrictModel):
    parameter: str = Field(description="query:NAME or path:NAME.")
    distinct: int = Field(
        default=100, ge=2, description="Distinct values per key in the window that count."
    )
    window_seconds: float = Field(default=60.0, gt=0, le=DAY)
    key: Literal["consumer", "ip"] = "consumer"

    @field_validator("parameter")
    @classmethod
    def _check(cls, value: str) -> str:
        place, _, name = value.partition(":")
        if place not in ("query", "path") or not name:
            raise ValueError(f"parameter {value!r} must be query:NAME or path:NAME")
        return value


class AbuseProtection(StrictModel):
    logins: list[LoginEndpoint] = Field(default_factory=list)
    window_seconds: float = Field(default=5 * MINUTE, gt=0, le=DAY)
    max_failures_per_ip: int = Field(default=20, ge=1)
    max_failures_per_username: int = Field(default=10, ge=1)
    max_usernames_per_ip: int = Field(default=5, ge=2)
    max_ips_per_username: int = Field(default=10, ge=2)
    failure_ratio: float = Field(default=0.8, gt=0, le=1.0)
    failure_ratio_min_attempts: int = Field(default=20, ge=1)
    velocity_window_seconds: float = Field(default=10.0, gt=0, le=HOUR)
    max_attempts_per_ip_velocity: int = Field(default=10, ge=1)
    parameters: list[ParameterWatch] = Field(default_factory=list)


class SsrfProtection(StrictModel):
    parameter_names: list[str] = Field(
        default_factory=lambda: [
            "url",
            "uri",
            "link",
            "href",
            "callback",
            "webhook",
            "redirect",
            "redirect_uri",
            "return_url",
            "next",
            "target",
            "dest",
            "destination",
            "image",
            "image_url",
            "feed",
            "endpoint",
            "host",
        ],
        description="Names whose values are checked even without a scheme.",
    )
    allow_hosts: list[str] = Field(
        default_factory=list, description="host or host:port values that may point inward."
    )


class LeakProtection(StrictModel):
    report_classes: list[SensitiveClass] = Field(
        default_factory=lambda: [
            SensitiveClass.CREDIT_CARD,
            SensitiveClass.US_SSN,
            SensitiveClass.UK_NINO,
            SensitiveClass.IBAN,
            SensitiveClass.PRIVATE_KEY,
            SensitiveClass.AWS_ACCESS_KEY,
            SensitiveClass.GCP_API_KEY,
            SensitiveClass.GITHUB_TOKEN,
            SensitiveClass.SLACK_TOKEN,
            SensitiveClass.STRIPE_KEY,
            SensitiveClass.PASSWORD,
        ],
        description="Classes reported when a response carries them.",
    )
    mask_classes: list[SensitiveClass] = Field(
        default_factory=list, description="Classes replaced by asterisks in block mode."
    )
    block_classes: list[SensitiveClass] = Field(
        default_factory=list, description="Classes whose presence withholds the response (502)."
    )
    stack_traces: bool = Field(
        default=True, description="Withhold stack traces and framework error pages."
    )


class ThresholdRule(StrictModel):
    min_severity: Severity = "critical"
    events: int = Field(
        default=5, ge=1, description="Events of at least min_severity within the window."
    )
    window_seconds: float = Field(default=60.0, gt=0, le=DAY)
    block_seconds: float = Field(default=900.0, gt=0, le=30 * DAY)
    source: SourceKind = "ip"


class BlockingProtection(StrictModel):
    thresholds: list[ThresholdRule] = Field(default_factory=lambda: [ThresholdRule()])
    mssp_wide: bool = Field(
        default=False, description="A source blocked by a threshold is blocked for every tenant."
    )
    store_sync_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Seconds between reads of the store's dynamic blocks; null: not read.",
    )
    cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description="Seconds a deny list lookup result is cached in the worker.",
    )


class ProtectionPolicy(StrictModel):
    state: StateSettings = StateSettings()
    identity: IdentitySettings = IdentitySettings()
    openapi: OpenApiProtection | None = None
    bola: BolaProtection | None = None
    bfla: BflaProtection | None = None
    auth_signals: AuthSignals | None = None
    abuse: AbuseProtection | None = None
    ssrf: SsrfProtection | None = None
    leaks: LeakProtection | None = None
    blocking: BlockingProtection | None = None

    @model_validator(mode="after")
    def _unique_logins(self) -> ProtectionPolicy:
        if self.abuse is not None:
            seen = [(login.method, login.path) for login in self.abuse.logins]
            if len(set(seen)) != len(seen):
                raise ValueError("abuse.logins lists the same method and path twice")
        return self
