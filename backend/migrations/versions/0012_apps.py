"""Apps: long-running web apps (FastAPI, Panel, ...) the server runs and serves under /apps/.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

`apps` holds one row per app of a project and domain: its spec (plait.app's
`App.to_spec()`), the code bundle of its files, its revision (a deploy that
changes the spec or the files makes a new one), what users asked for
(`desired`) and the status the app manager reached. `app_replicas` are the
processes that serve a revision, with the loopback port the proxy forwards to;
`app_events` is what happened, for people.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("bundle", sa.String(128), nullable=True),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("desired", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("wanted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_request", sa.DateTime(timezone=True), nullable=True),
        sa.Column("load", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_apps"),
        sa.UniqueConstraint("project", "domain", "name", name="uq_apps_project_domain_name"),
    )
    op.create_table(
        "app_replicas",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("last_exit", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE", name="fk_app_replicas_app_id_apps"),
        sa.PrimaryKeyConstraint("id", name="pk_app_replicas"),
        sa.UniqueConstraint("app_id", "slot", name="uq_app_replicas_app_id_slot"),
    )
    op.create_table(
        "app_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("app_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["app_id"], ["apps.id"], ondelete="CASCADE", name="fk_app_events_app_id_apps"),
        sa.PrimaryKeyConstraint("id", name="pk_app_events"),
    )
    op.create_index("ix_app_events_app_id_id", "app_events", ["app_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_app_events_app_id_id", table_name="app_events")
    op.drop_table("app_events")
    op.drop_table("app_replicas")
    op.drop_table("apps")
