"""Let dynamic blocks name consumers, API keys and JWT subjects as well as addresses

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=False,
                                      server_default="ip"))
        batch_op.alter_column("client", existing_type=sa.String(length=64), type_=sa.Text(),
                              existing_nullable=False)


def downgrade() -> None:
    op.execute("DELETE FROM blocks WHERE kind != 'ip'")
    with op.batch_alter_table("blocks", schema=None) as batch_op:
        batch_op.alter_column("client", existing_type=sa.Text(), type_=sa.String(length=64),
                              existing_nullable=False)
        batch_op.drop_column("kind")
