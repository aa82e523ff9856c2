"""Notifications: an outbox of messages to send, which is also their delivery record.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10

A row is written in the same transaction as the execution phase it reports
(or the skipped schedule tick), so a committed phase always has its messages
and a rolled-back one never does. The backend's delivery thread sends each
PENDING row whose `next_attempt_at` has come, counting `attempts` and keeping
`last_error`; a row ends SENT (`sent_at`) or FAILED after the last retry.
Claiming a row moves `next_attempt_at` forward, so that two backend processes
never send the same message at once (delivery is at least once: a process
that dies after sending and before recording sends it again after the claim
expires).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=True),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("launch_plan_name", sa.String(255), nullable=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(16), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("sink", sa.String(16), nullable=False),
        sa.Column("recipients", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("message", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_notification_deliveries_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    op.create_index(
        op.f("ix_notification_deliveries_status_next_attempt_at"),
        "notification_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index(
        op.f("ix_notification_deliveries_execution_id"),
        "notification_deliveries",
        ["execution_id"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_notification_deliveries_execution_id"), table_name="notification_deliveries")
    op.drop_index(
        op.f("ix_notification_deliveries_status_next_attempt_at"), table_name="notification_deliveries"
    )
    op.drop_table("notification_deliveries")
