"""Workspaces: browser VS Code (code-server) sessions managed by the server.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

One row per workspace of a project and domain (the unique key). `desired` is
what users asked for (ACTIVE or STOPPED), `phase` what the server's workspace
manager has reached; `pid` and `port` say where its code-server listens while
it runs, so that the proxy of every API process finds it and a restarted
server finds it again. `last_activity` is written by the proxy (the idle TTL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("desired", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("pool", sa.String(255), nullable=True),
        sa.Column("origin", sa.JSON(), nullable=True),
        sa.Column("spec_started", sa.JSON(), nullable=True),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("project", "domain", "name", name="uq_workspaces_project_domain_name"),
    )


def downgrade() -> None:
    op.drop_table("workspaces")
