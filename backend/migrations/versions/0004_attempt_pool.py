"""The pool each attempt was routed to, and the GPU use of attempts that had a GPU.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09

`attempts.pool` is the name of the worker pool (compute/pools.py, the cluster
file's `pools[].name`, or a pool made on demand for an environment): set when the
executor sends the attempt, and confirmed from the worker's `pool-<name>` Dask
resource when it answers. Attempts recorded before this revision have none.

`gpu_util_avg`/`gpu_util_peak` (percent) and `gpu_mem_avg`/`gpu_mem_peak` (bytes)
are what NVML read of the devices the attempt's worker sees; null without a GPU.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

GPU_FIELDS = ("gpu_util_avg", "gpu_util_peak", "gpu_mem_avg", "gpu_mem_peak")


def upgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("pool", sa.String(64), nullable=True))
        for name in GPU_FIELDS:
            batch.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        for name in GPU_FIELDS:
            batch.drop_column(name)
        batch.drop_column("pool")
