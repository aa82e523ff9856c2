"""The secret store: encrypted values per project, for one domain or every domain.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08

`encrypted_value` holds a Fernet token (plait.backend.secrets), never the
value. `domain` is empty for a secret of every domain of its project (empty,
not NULL, so that the unique constraint holds on PostgreSQL as on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "secrets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("domain", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("encrypted_value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project"], ["projects.name"], name=op.f("fk_secrets_project_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secrets")),
        sa.UniqueConstraint("project", "domain", "name", name=op.f("uq_secrets_project_domain_name")),
    )


def downgrade() -> None:
    op.drop_table("secrets")
