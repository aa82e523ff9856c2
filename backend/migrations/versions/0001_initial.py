"""The first schema: projects, bundles, entities, executions, nodes, attempts, cache.

Revision ID: 0001
Revises:
Create Date: 2026-05-20

Written by hand to match plait/backend/store/models.py; the test suite
compares the migrated database with the models on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projects")),
    )
    op.create_table(
        "bundles",
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("python_version", sa.String(32), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_bundles")),
    )
    op.create_table(
        "entities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(128), nullable=False),
        sa.Column("spec", JSON, nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("bundle_digest", sa.String(128), nullable=True),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project"], ["projects.name"], name=op.f("fk_entities_project_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entities")),
        sa.UniqueConstraint(
            "kind",
            "project",
            "domain",
            "name",
            "version",
            name=op.f("uq_entities_kind_project_domain_name_version"),
        ),
    )
    op.create_index(
        op.f("ix_entities_kind_project_domain_name"),
        "entities",
        ["kind", "project", "domain", "name"],
    )
    op.create_table(
        "executions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("entity_kind", sa.String(16), nullable=False),
        sa.Column("entity_name", sa.String(255), nullable=False),
        sa.Column("entity_version", sa.String(128), nullable=False),
        sa.Column("launch_plan_name", sa.String(255), nullable=True),
        sa.Column("launch_plan_version", sa.String(128), nullable=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("inputs", JSON, nullable=False),
        sa.Column("outputs", JSON, nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("settings", JSON, nullable=False),
        sa.Column("parent_execution_id", sa.String(64), nullable=True),
        sa.Column("parent_node_path", sa.String(512), nullable=True),
        sa.Column("abort_requested", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("lease_owner", sa.String(255), nullable=True),
        sa.Column("lease_expires_at", _time(), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("started_at", _time(), nullable=True),
        sa.Column("ended_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["project"], ["projects.name"], name=op.f("fk_executions_project_projects")
        ),
        sa.ForeignKeyConstraint(
            ["parent_execution_id"],
            ["executions.id"],
            name=op.f("fk_executions_parent_execution_id_executions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
    )
    op.create_index(
        op.f("ix_executions_project_domain_created_at"),
        "executions",
        ["project", "domain", "created_at"],
    )
    op.create_index(op.f("ix_executions_phase"), "executions", ["phase"])
    op.create_index(
        op.f("ix_executions_parent_execution_id"), "executions", ["parent_execution_id"]
    )
    op.create_table(
        "node_executions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("parent_path", sa.String(512), nullable=True),
        sa.Column("entity_name", sa.String(255), nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("inputs", JSON, nullable=True),
        sa.Column("outputs", JSON, nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("started_at", _time(), nullable=True),
        sa.Column("ended_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["execution_id"],
            ["executions.id"],
            name=op.f("fk_node_executions_execution_id_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_node_executions")),
        sa.UniqueConstraint(
            "execution_id", "path", name=op.f("uq_node_executions_execution_id_path")
        ),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_execution_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("error_kind", sa.String(8), nullable=True),
        sa.Column("error", JSON, nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("logs_uri", sa.Text(), nullable=True),
        sa.Column("outputs", JSON, nullable=True),
        sa.Column("cpu_peak", sa.Float(), nullable=True),
        sa.Column("cpu_avg", sa.Float(), nullable=True),
        sa.Column("mem_peak", sa.Float(), nullable=True),
        sa.Column("mem_avg", sa.Float(), nullable=True),
        sa.Column("started_at", _time(), nullable=False),
        sa.Column("ended_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["node_execution_id"],
            ["node_executions.id"],
            name=op.f("fk_attempts_node_execution_id_node_executions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attempts")),
        sa.UniqueConstraint(
            "node_execution_id", "number", name=op.f("uq_attempts_node_execution_id_number")
        ),
    )
    # At most one SUCCEEDED attempt per node, whoever writes it.
    op.create_index(
        "ix_attempts_one_success",
        "attempts",
        ["node_execution_id"],
        unique=True,
        sqlite_where=sa.text("phase = 'SUCCEEDED'"),
        postgresql_where=sa.text("phase = 'SUCCEEDED'"),
    )
    op.create_table(
        "cache_entries",
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("outputs", JSON, nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=True),
        sa.Column("node_path", sa.String(512), nullable=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("project", "domain", "key", name=op.f("pk_cache_entries")),
    )
    op.create_table(
        "cache_reservations",
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("expires_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("project", "domain", "key", name=op.f("pk_cache_reservations")),
    )
    op.bulk_insert(
        projects,
        [
            {
                "name": "default",
                "description": "The default project",
                "created_at": dt.datetime.now(dt.timezone.utc),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("cache_reservations")
    op.drop_table("cache_entries")
    op.drop_index("ix_attempts_one_success", table_name="attempts")
    op.drop_table("attempts")
    op.drop_table("node_executions")
    op.drop_index(op.f("ix_executions_parent_execution_id"), table_name="executions")
    op.drop_index(op.f("ix_executions_phase"), table_name="executions")
    op.drop_index(op.f("ix_executions_project_domain_created_at"), table_name="executions")
    op.drop_table("executions")
    op.drop_index(op.f("ix_entities_kind_project_domain_name"), table_name="entities")
    op.drop_table("entities")
    op.drop_table("bundles")
    op.drop_table("projects")
