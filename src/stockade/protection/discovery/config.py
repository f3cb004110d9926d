"""Config sections of API discovery: the gateway-wide settings and the policy section."""

from __future__ import annotations

import os

from pydantic import Field, ValidationInfo, field_validator

from stockade.config.base import KIB, MIB, StrictModel

DAY_SECONDS = 24 * 3600


class DiscoverySettings(StrictModel):
    """Gateway-wide discovery settings: where inventories live and how much is observed."""

    enabled: bool = True
    database: str = Field(
        default="stockade-discovery.sqlite3",
        description="SQLite file of every tenant's inventory (relative to the config file), "
        "or an SQLAlchemy URL.",
    )
    queue_size: int = Field(
        default=10_000,
        ge=1,
        le=1_000_000,
        description="Exchanges waiting for analysis; more are dropped and counted.",
    )
    body_sample_rate: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Share of exchanges whose bodies are captured, 0 to 1.",
    )
    max_body_bytes: int = Field(
        default=64 * KIB,
        ge=0,
        le=16 * MIB,
        description="Bytes of each request and response body captured.",
    )
    flush_interval: float = Field(
        default=5.0, gt=0, description="Seconds between writes to the database."
    )
    orphan_check_interval: float = Field(
        default=3600.0, gt=0, description="Seconds between two searches for orphan endpoints."
    )

    @field_validator("database")
    @classmethod
    def _resolve_database(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            raise ValueError("database must be a file path or an SQLAlchemy URL, not empty")
        base_dir = (info.context or {}).get("base_dir")
        if "://" in value or base_dir is None or os.path.isabs(value):
            return value
        return os.path.normpath(os.path.join(base_dir, value))


class DiscoveryPolicy(StrictModel):
    """Discovery settings per tenant, service and route.

    Switch discovery off at any level with ``modes: {discovery: off}``.
    """

    body_sample_rate: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Overrides the gateway's body_sample_rate here."
    )
    orphan_after: float = Field(
        default=7 * DAY_SECONDS,
        gt=0,
        description="Seconds a declared endpoint may go unseen before it is an orphan.",
    )
    compare_declared: bool = Field(
        default=True, description="Compare traffic with the service's OpenAPI document."
    )
    exclude_prefixes: list[str] = Field(
        default_factory=list,
        description="Paths starting with one of these are not recorded, e.g. /health.",
    )
