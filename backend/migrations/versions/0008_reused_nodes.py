"""Reused nodes: a re-run's node records which node of which execution it took its outputs from.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

A re-run (`POST /executions/{id}/rerun`) takes the outputs of every node it
does not run again from the execution it re-runs; the node ends REUSED and
`reused_from` holds `{"execution_id": ..., "path": ...}` of the node whose
stored outputs it took (null for every other node), so lineage points at the
original producer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("node_executions") as batch:
        batch.add_column(sa.Column("reused_from", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("node_executions") as batch:
        batch.drop_column("reused_from")
