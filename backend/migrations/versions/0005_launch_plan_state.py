"""Launch plan activation and the record of every scheduled tick.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10

`launch_plan_states` holds, per project/domain/name, the active version (NULL:
none is active), when it was activated, the catch-up policy after downtime
given when it was activated (`skip`, `latest` or `all`; NULL: the schedule's
own, else `skip`) and `last_tick`, the newest tick the scheduler has
handled (fired, skipped or recorded as missed); ticks after it are due.

`schedule_runs` has one row per handled tick. Its unique key on
(project, domain, name, tick) is what makes a tick fire at most once: the
scheduler inserts the row and creates the execution in one transaction, and a
second scheduler (another backend process, or the same one after a crash)
inserts nothing for the same tick. The key has no version: a plan edited into
a new active version does not fire a tick the old one fired.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "launch_plan_states",
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("active_version", sa.String(128), nullable=True),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("catch_up", sa.String(8), nullable=True),
        sa.Column("last_tick", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project"], ["projects.name"],
                                name=op.f("fk_launch_plan_states_project_projects")),
        sa.PrimaryKeyConstraint("project", "domain", "name", name=op.f("pk_launch_plan_states")),
    )
    op.create_index(op.f("ix_launch_plan_states_active_version"), "launch_plan_states",
                    ["active_version"], unique=False)
    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("version", sa.String(128), nullable=False),
        sa.Column("tick", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("execution_id", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project"], ["projects.name"], name=op.f("fk_schedule_runs_project_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_runs")),
        sa.UniqueConstraint("project", "domain", "name", "tick",
                            name=op.f("uq_schedule_runs_project_domain_name_tick")),
    )


def downgrade() -> None:
    op.drop_table("schedule_runs")
    op.drop_index(op.f("ix_launch_plan_states_active_version"), table_name="launch_plan_states")
    op.drop_table("launch_plan_states")
