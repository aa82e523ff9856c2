"""Node executions by entity: a task's runs inside workflows, newest first, without a scan.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

The lab's entity lists show a task's last runs, and most tasks run as nodes of
workflow executions (`queries.recent_node_runs`). That query picks each named
entity's newest node executions; this index lets it read them by
(entity_name, created_at) instead of every node of every execution.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_node_executions_entity_name_created_at"), "node_executions",
                    ["entity_name", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_node_executions_entity_name_created_at"), table_name="node_executions")
