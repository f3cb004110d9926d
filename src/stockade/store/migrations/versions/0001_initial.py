"""Create the initial store tables

Revision ID: 0001
Revises:
Create Date: 2026-12-04 21:02:01.261013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "config_history",
        sa.Column("change_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=True),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("operator", sa.String(length=63), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("object_kind", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("change_id", name=op.f("pk_config_history")),
    )
    with op.batch_alter_table("config_history", schema=None) as batch_op:
        batch_op.create_index("ix_config_history_tenant_time", ["tenant_id", "time"], unique=False)

    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("time", sa.Float(), nullable=False),
        sa.Column("layer", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("service_id", sa.String(length=63), nullable=True),
        sa.Column("route_id", sa.String(length=63), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("consumer", sa.String(length=255), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("rule_index", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_events")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_tenant_time", ["tenant_id", "time"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=63), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_tenants")),
    )
    op.create_table(
        "alert_rules",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("rule_id", sa.String(length=63), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_alert_rules_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "rule_id", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "blocks",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("block_id", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_blocks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("block_id", name=op.f("pk_blocks")),
    )
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.create_index("ix_blocks_tenant_client", ["tenant_id", "client"], unique=False)

    op.create_table(
        "consumers",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("consumer_id", sa.String(length=63), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_consumers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "consumer_id", name=op.f("pk_consumers")),
    )
    op.create_table(
        "operators",
        sa.Column("operator_id", sa.String(length=63), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=True),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_operators_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("operator_id", name=op.f("pk_operators")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_operators_token_hash")),
    )
    op.create_table(
        "policies",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("service_id", sa.String(length=63), nullable=False),
        sa.Column("route_id", sa.String(length=63), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_policies_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "service_id", "route_id", name=op.f("pk_policies")),
    )
    op.create_table(
        "services",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("service_id", sa.String(length=63), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("hosts", sa.JSON(), nullable=False),
        sa.Column("path_prefix", sa.Text(), nullable=False),
        sa.Column("upstream", sa.JSON(), nullable=False),
        sa.Column("openapi", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.tenant_id"],
            name=op.f("fk_services_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "service_id", name=op.f("pk_services")),
    )
    op.create_table(
        "credentials",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("consumer_id", sa.String(length=63), nullable=False),
        sa.Column("credential_id", sa.String(length=63), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "consumer_id"],
            ["consumers.tenant_id", "consumers.consumer_id"],
            name=op.f("fk_credentials_tenant_id_consumers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "consumer_id", "credential_id", name=op.f("pk_credentials")
        ),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_credentials_secret_hash")),
    )
    op.create_table(
        "routes",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("service_id", sa.String(length=63), nullable=False),
        sa.Column("route_id", sa.String(length=63), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "service_id"],
            ["services.tenant_id", "services.service_id"],
            name=op.f("fk_routes_tenant_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "service_id", "route_id", name=op.f("pk_routes")),
    )
    op.create_table(
        "scans",
        sa.Column("scan_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("service_id", sa.String(length=63), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "service_id"],
            ["services.tenant_id", "services.service_id"],
            name=op.f("fk_scans_tenant_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("scan_id", name=op.f("pk_scans")),
    )


def downgrade() -> None:

    op.drop_table("scans")
    op.drop_table("routes")
    op.drop_table("credentials")
    op.drop_table("services")
    op.drop_table("policies")
    op.drop_table("operators")
    op.drop_table("consumers")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_blocks_tenant_client")

    op.drop_table("blocks")
    op.drop_table("alert_rules")
    op.drop_table("tenants")
    op.drop_table("settings")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_tenant_time")

    op.drop_table("events")
    op.drop_table("config_version")
    with op.batch_alter_table("config_history", schema=None) as batch_op:
        batch_op.drop_index("ix_config_history_tenant_time")

    op.drop_table("config_history")
