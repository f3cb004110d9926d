"""Add the route_blocks table and the scan request columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 23:59:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "route_blocks",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("block_id", sa.String(length=32), nullable=False),
        sa.Column("service_id", sa.String(length=63), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "service_id"], ["services.tenant_id", "services.service_id"],
            name=op.f("fk_route_blocks_tenant_id_services"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("block_id", name=op.f("pk_route_blocks")),
    )
    with op.batch_alter_table("route_blocks", schema=None) as batch_op:
        batch_op.create_index("ix_route_blocks_service", ["tenant_id", "service_id"],
                              unique=False)
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("started_at", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scans", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("started_at")
        batch_op.drop_column("request")
    with op.batch_alter_table("route_blocks", schema=None) as batch_op:
        batch_op.drop_index("ix_route_blocks_service")
    op.drop_table("route_blocks")
