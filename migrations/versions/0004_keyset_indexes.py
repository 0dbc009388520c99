"""keyset paging indexes: (created_at, id) for executions, tasks and action executions

Lists page by the last row seen (created_at, then id); an index on both
columns lets every page start where the previous one ended.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = {
    "workflow_executions": "ix_workflow_executions_created",
    "task_executions": "ix_task_executions_created",
    "action_executions": "ix_action_executions_created",
}


def upgrade() -> None:
    for table, index in TABLES.items():
        op.drop_index(index, table_name=table)
        op.create_index(index, table, ["created_at", "id"])


def downgrade() -> None:
    for table, index in TABLES.items():
        op.drop_index(index, table_name=table)
        op.create_index(index, table, ["created_at"])
