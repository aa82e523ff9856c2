"""Signals: the values gate nodes (`wait_for_input`, `approve`) wait for.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

The executor opens a row (value null) when a gate node starts waiting; the API
sets its value once; the executor then lets the node go. One signal name per
execution (the unique key), so a value cannot be given twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("node_path", sa.String(512), nullable=False),
        sa.Column("gate", sa.String(16), nullable=False),
        sa.Column("type", sa.JSON(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timeout_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"], ondelete="CASCADE",
                                name="fk_signals_execution_id_executions"),
        sa.PrimaryKeyConstraint("id", name="pk_signals"),
        sa.UniqueConstraint("execution_id", "name", name="uq_signals_execution_id_name"),
    )


def downgrade() -> None:
    op.drop_table("signals")
