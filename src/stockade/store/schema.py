"""Tables of the Stockade store, in SQLAlchemy Core.

Every table that belongs to a tenant has a ``tenant_id`` column, and the
scoped repository (``store.scope``) adds it to every query, so isolation
between tenants is enforced in one place. Structured settings (policies,
upstreams, evidence) are JSON columns: their shape is owned by the pydantic
config models, and the store keeps them whole so that fields added there
survive an import and export without a migration.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

ID_LENGTH = 63
"""Maximum identifier length in characters, the same limit as ``config.base.Identifier``."""

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(ID_LENGTH), primary_key=True),
    Column("document", JSON, nullable=False),
)
"""Gateway-wide settings (listeners, limits, default policy, events) by section name."""

config_version = Table(
    "config_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("changed_at", Float, nullable=False),
)
"""One row whose version grows with every config change; gateways poll or listen for it."""

tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("name", Text),
    Column("extra", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

services = Table(
    "services",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("service_id", String(ID_LENGTH), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("hosts", JSON, nullable=False),
    Column("path_prefix", Text, nullable=False),
    Column("upstream", JSON, nullable=False),
    Column("openapi", Text),
    Column("extra", JSON, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
)

routes = Table(
    "routes",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("service_id", String(ID_LENGTH), primary_key=True),
    Column("route_id", String(ID_LENGTH), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("methods", JSON, nullable=False),
    Column("path", Text, nullable=False),
    Column("extra", JSON, nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "service_id"], ["services.tenant_id", "services.service_id"],
        ondelete="CASCADE",
    ),
)

policies = Table(
    "policies",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    # "" stands for "not set" so that the three columns can form the primary key.
    Column("service_id", String(ID_LENGTH), primary_key=True),
    Column("route_id", String(ID_LENGTH), primary_key=True),
    Column("document", JSON, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
)
"""The policy set at tenant (service and route ""), service (route "") or route level."""

consumers = Table(
    "consumers",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("consumer_id", String(ID_LENGTH), primary_key=True),
    Column("groups", JSON, nullable=False),
    Column("extra", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("consumer_id", String(ID_LENGTH), primary_key=True),
    Column("credential_id", String(ID_LENGTH), primary_key=True),
    Column("kind", String(32), nullable=False),
    # sha256:<hex> of the API key, the form auth.hashing.hash_api_key returns.
    Column("secret_hash", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked", Boolean, nullable=False),
    ForeignKeyConstraint(
        ["tenant_id", "consumer_id"], ["consumers.tenant_id", "consumers.consumer_id"],
        ondelete="CASCADE",
    ),
    UniqueConstraint("secret_hash"),
)
"""API keys of consumers. Only a SHA-256 hash of each key is stored."""

operators = Table(
    "operators",
    metadata,
    Column("operator_id", String(ID_LENGTH), primary_key=True),
    Column("role", String(32), nullable=False),
    # Set for tenant roles only; MSSP operators see every tenant.
    Column("tenant_id", String(ID_LENGTH)),
    Column("token_hash", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("disabled", Boolean, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
    UniqueConstraint("token_hash"),
)

blocks = Table(
    "blocks",
    metadata,
    Column("tenant_id", String(ID_LENGTH), nullable=False),
    Column("block_id", String(32), primary_key=True),
    Column("client", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(ID_LENGTH), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
    Column("kind", String(16), nullable=False, server_default="ip"),
    Index("ix_blocks_tenant_client", "tenant_id", "client"),
)
"""Dynamic deny list: a source blocked until ``expires_at`` (None: forever).

``client`` is an address or network for kind ``ip``, else the consumer id,
API key id or JWT subject.
"""

route_blocks = Table(
    "route_blocks",
    metadata,
    Column("tenant_id", String(ID_LENGTH), nullable=False),
    Column("block_id", String(32), primary_key=True),
    Column("service_id", String(ID_LENGTH), nullable=False),
    Column("method", String(32), nullable=False),
    Column("path", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("origin", String(16), nullable=False),
    Column("finding_id", String(64)),
    Column("created_by", String(ID_LENGTH), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    ForeignKeyConstraint(
        ["tenant_id", "service_id"], ["services.tenant_id", "services.service_id"],
        ondelete="CASCADE",
    ),
    Index("ix_route_blocks_service", "tenant_id", "service_id"),
)
"""Dynamic route blocks: a method and path template of a service refused until ``expires_at``."""

events = Table(
    "events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("tenant_id", String(ID_LENGTH), nullable=False),
    Column("time", Float, nullable=False),
    Column("layer", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("action", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("service_id", String(ID_LENGTH)),
    Column("route_id", String(ID_LENGTH)),
    Column("request_id", String(64)),
    Column("client_ip", String(64)),
    Column("consumer", String(255)),
    Column("method", String(16)),
    Column("path", Text),
    Column("rule_ids", JSON, nullable=False),
    # The rule ids again as ",id1,id2,", so that every database can filter by one with LIKE.
    Column("rule_index", Text, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("acknowledged", Boolean, nullable=False),
    Index("ix_events_tenant_time", "tenant_id", "time"),
)
"""Security events. No foreign key to tenants: events outlive a deleted tenant until purged."""

config_history = Table(
    "config_history",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", String(ID_LENGTH)),
    Column("time", Float, nullable=False),
    Column("operator", String(ID_LENGTH), nullable=False),
    Column("action", String(16), nullable=False),
    Column("object_kind", String(32), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_config_history_tenant_time", "tenant_id", "time"),
)
"""Audit trail of every write: who changed what, when, and the object before and after."""

scans = Table(
    "scans",
    metadata,
    Column("scan_id", String(32), primary_key=True),
    Column("tenant_id", String(ID_LENGTH), nullable=False),
    Column("service_id", String(ID_LENGTH), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_by", String(ID_LENGTH), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("finished_at", Float),
    Column("findings", JSON, nullable=False),
    Column("request", JSON),
    Column("started_at", Float),
    Column("error", Text),
    Column("notes", JSON),
    ForeignKeyConstraint(
        ["tenant_id", "service_id"], ["services.tenant_id", "services.service_id"],
        ondelete="CASCADE",
    ),
)
"""Scans of a service: ``request`` is what to scan and how, for the scan runner to pick up."""

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("tenant_id", String(ID_LENGTH), primary_key=True),
    Column("rule_id", String(ID_LENGTH), primary_key=True),
    Column("document", JSON, nullable=False),
    ForeignKeyConstraint(["tenant_id"], ["tenants.tenant_id"], ondelete="CASCADE"),
)
"""Alert rules per tenant; the document is an ``events.config.AlertRule``."""
