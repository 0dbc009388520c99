"""resource members: workflows and workbooks shared with other projects

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
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
        "resource_members",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("resource_type", sa.String(length=50), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("member_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "resource_type", "member_id"),
    )
    with op.batch_alter_table("resource_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_resource_members_member", ["member_id", "resource_type", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("resource_members", schema=None) as batch_op:
        batch_op.drop_index("ix_resource_members_member")

    op.drop_table("resource_members")
