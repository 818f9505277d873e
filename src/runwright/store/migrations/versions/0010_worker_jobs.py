"""Workers record the jobs they know

A worker claims only runs of jobs it has registered, and says which in ``workers.jobs`` (a JSON
list of job names, kept current by its heartbeat), so that ``runwright doctor`` and the
dashboard can name a ready run's job that no live worker knows. NULL: a worker that recorded
no list (one started by an older runwright, which claims any job).

Revision ID: 0010_worker_jobs
Revises: 0001_core
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_worker_jobs"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("jobs", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("jobs")
