"""Keep JSON documents' key order on PostgreSQL; index executions by entity and launch plan.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

JSONB stores object keys in its own order (shortest first), so a task declared
`(scores, origin, when, label)` came back as `(when, label, origin, scores)`:
launch forms and DAGs listed inputs out of order. Plain JSON keeps the text as
written. Documents stored before this revision keep the order JSONB gave them
until they are written again (re-registering a version is a no-op, so register
a new one where the order matters). SQLite always stored plain JSON.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON_COLUMNS = {
    "entities": ["spec"],
    "executions": ["inputs", "outputs", "error", "settings"],
    "node_executions": ["inputs", "outputs", "error"],
    "attempts": ["error", "outputs"],
    "cache_entries": ["outputs"],
}


def _retype(to_json: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    new, old = (sa.JSON(), postgresql.JSONB()) if to_json else (postgresql.JSONB(), sa.JSON())
    cast = "json" if to_json else "jsonb"
    for table, columns in JSON_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=new, existing_type=old,
                            postgresql_using=f"{column}::text::{cast}")


def upgrade() -> None:
    _retype(to_json=True)
    op.create_index(op.f("ix_executions_project_domain_entity_name_created_at"), "executions",
                    ["project", "domain", "entity_name", "created_at"])
    op.create_index(op.f("ix_executions_project_domain_launch_plan_name_created_at"), "executions",
                    ["project", "domain", "launch_plan_name", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_executions_project_domain_launch_plan_name_created_at"), "executions")
    op.drop_index(op.f("ix_executions_project_domain_entity_name_created_at"), "executions")
    _retype(to_json=False)
