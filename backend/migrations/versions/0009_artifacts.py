"""The artifact catalog: versions, their partitions, their uses, and trigger runs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

`artifacts` holds one row per version (written with the producing node's
success, so exactly once per successful node: the unique key on
execution/node/output), `artifact_partitions` one row per partition value
(the time partition too) for indexed "latest matching" queries,
`artifact_uses` the executions that read a version (lineage), and
`artifact_trigger_runs` the versions an active launch plan's trigger handled
(unique per plan and version). `launch_plan_states.trigger_after` is a
trigger's cursor: versions with a larger id are new to it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("partitions", sa.JSON(), nullable=False),
        sa.Column("time_partition", sa.String(32), nullable=True),
        sa.Column("granularity", sa.String(8), nullable=True),
        sa.Column("type", sa.JSON(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("cards", sa.JSON(), nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=True),
        sa.Column("node_path", sa.String(512), nullable=True),
        sa.Column("task_name", sa.String(255), nullable=True),
        sa.Column("task_version", sa.String(128), nullable=True),
        sa.Column("output", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_artifacts"),
        sa.UniqueConstraint("project", "domain", "name", "version",
                            name="uq_artifacts_project_domain_name_version"),
        sa.UniqueConstraint("execution_id", "node_path", "output",
                            name="uq_artifacts_execution_id_node_path_output"),
    )
    op.create_index("ix_artifacts_project_domain_name_id", "artifacts", ["project", "domain", "name", "id"])
    op.create_index("ix_artifacts_execution_id", "artifacts", ["execution_id"])
    op.create_table(
        "artifact_partitions",
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifacts.id"], ondelete="CASCADE",
                                name="fk_artifact_partitions_artifact_id_artifacts"),
        sa.PrimaryKeyConstraint("artifact_id", "key", name="pk_artifact_partitions"),
    )
    op.create_index("ix_artifact_partitions_lookup", "artifact_partitions",
                    ["project", "domain", "name", "key", "value", "artifact_id"])
    op.create_table(
        "artifact_uses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=False),
        sa.Column("node_path", sa.String(512), nullable=False),
        sa.Column("port", sa.String(255), nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifacts.id"], ondelete="CASCADE",
                                name="fk_artifact_uses_artifact_id_artifacts"),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.id"], ondelete="CASCADE",
                                name="fk_artifact_uses_execution_id_executions"),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_uses"),
        sa.UniqueConstraint("artifact_id", "execution_id", "node_path", "port",
                            name="uq_artifact_uses_artifact_id_execution_id_node_path_port"),
    )
    op.create_index("ix_artifact_uses_execution_id", "artifact_uses", ["execution_id"])
    op.create_table(
        "artifact_trigger_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("artifact_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["artifact_id"], ["artifacts.id"], ondelete="CASCADE",
                                name="fk_artifact_trigger_runs_artifact_id_artifacts"),
        sa.PrimaryKeyConstraint("id", name="pk_artifact_trigger_runs"),
        sa.UniqueConstraint("project", "domain", "name", "artifact_id",
                            name="uq_artifact_trigger_runs_project_domain_name_artifact_id"),
    )
    with op.batch_alter_table("launch_plan_states") as batch:
        batch.add_column(sa.Column("trigger_after", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("launch_plan_states") as batch:
        batch.drop_column("trigger_after")
    op.drop_table("artifact_trigger_runs")
    op.drop_index("ix_artifact_uses_execution_id", table_name="artifact_uses")
    op.drop_table("artifact_uses")
    op.drop_index("ix_artifact_partitions_lookup",
                  table_name="artifact_partitions")
    op.drop_table("artifact_partitions")
    op.drop_index("ix_artifacts_execution_id", table_name="artifacts")
    op.drop_index("ix_artifacts_project_domain_name_id", table_name="artifacts")
    op.drop_table("artifacts")
