"""The ``rate_limit`` policy section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from stockade.config.base import Identifier, StrictModel

KeyPart = Literal["consumer", "ip", "route", "service", "tenant"]
"""Parts of a rate limit key. The tenant is always in the key, so tenants never share a count."""

MAX_WINDOW_SECONDS = 31 * 86400  # a month; longer windows are quotas, not rate limits
MAX_LOG_REQUESTS = 10_000  # sliding_log keeps one timestamp per admitted request and window


class RateWindow(StrictModel):
    requests: int = Field(ge=1, le=10_000_000, description="Requests allowed per window.")
    per_seconds: float = Field(gt=0, le=MAX_WINDOW_SECONDS, description="Window length in seconds.")
    burst: int | None = Field(
        None,
        ge=1,
        description="Requests allowed at once; 'requests' by default. Lower values smooth traffic.",
    )

    @model_validator(mode="after")
    def _burst_fits(self) -> RateWindow:
        if self.burst is not None and self.burst > self.requests:
            raise ValueError(f"burst {self.burst} is larger than requests {self.requests}")
        return self


class RateLimitRule(StrictModel):
    id: Identifier
    key: list[KeyPart] = Field(
        min_length=1, description="Parts the count is kept by, e.g. [consumer, route]."
    )
    windows: list[RateWindow] = Field(
        min_length=1, max_length=8, description="All must admit a request."
    )
    groups: list[str] = Field(
        default_factory=list,
        description="When set, the limit applies only to consumers in one of these groups.",
    )
    except_groups: list[str] = Field(
        default_factory=list, description="Consumers in any of these groups skip the limit."
    )

    def applies_to(self, groups: frozenset[str]) -> bool:
        """Return whether a consumer in ``groups`` (none if anonymous) counts against this limit."""
        if self.except_groups and not groups.isdisjoint(self.except_groups):
            return False
        return not self.groups or not groups.isdisjoint(self.groups)

    @field_validator("key")
    @classmethod
    def _unique_parts(cls, value: list[KeyPart]) -> list[KeyPart]:
        if len(set(value)) != len(value):
            raise ValueError(f"rate limit key {value} repeats a part")
        return value


class RateLimitPolicy(StrictModel):
    limits: list[RateLimitRule] = Field(default_factory=list, max_length=16)
    algorithm: Literal["gcra", "sliding_log"] = Field(
        "gcra",
        description="gcra: 'burst' at once, then a steady rate; sliding_log: at most 'requests' "
        "in any span of 'per_seconds', at the cost of one stored timestamp per request.",
    )
    store: Literal["memory", "redis"] = Field(
        "memory",
        description="memory counts per worker process; redis shares counts across nodes.",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis used when store is redis."
    )
    redis_timeout_seconds: float = Field(
        0.25, gt=0, le=10, description="Seconds allowed for one Redis decision."
    )
    key_prefix: str = Field(
        "stockade:rl", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9:_.-]+$"
    )
    on_store_error: Literal["open", "closed"] = Field(
        "open",
        description="open admits requests while the store is unreachable; closed rejects with 503.",
    )
    ipv6_prefix_length: int = Field(
        64, ge=32, le=128, description="IPv6 clients are counted per network of this prefix length."
    )
    send_fields: bool = Field(
        True, description="Send RateLimit and RateLimit-Policy fields on every response."
    )

    @field_validator("redis_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"redis_url {value!r} must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> RateLimitPolicy:
        ids = [limit.id for limit in self.limits]
        if len(set(ids)) != len(ids):
            raise ValueError(f"rate limit ids must be unique, got {ids}")
        return self

    @model_validator(mode="after")
    def _log_fits(self) -> RateLimitPolicy:
        if self.algorithm != "sliding_log":
            return self
        for limit in self.limits:
            for window in limit.windows:
                if window.burst is not None:
                    raise ValueError(f"limit {limit.id!r}: burst applies to gcra, not sliding_log")
                if window.requests > MAX_LOG_REQUESTS:
                    raise ValueError(
                        f"limit {limit.id!r}: sliding_log stores each request, so requests must be "
                        f"at most {MAX_LOG_REQUESTS}, not {window.requests}; use gcra for more"
                    )
        return self
