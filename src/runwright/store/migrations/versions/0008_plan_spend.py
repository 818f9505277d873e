"""Plans: the spend of every agent call made for a plan delegation (budgets)

Revision ID: 0008_plan_spend
Revises: 0005_plans
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import runwright.store.types

revision: str = "0008_plan_spend"
down_revision: str | Sequence[str] | None = "0005_plans"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_spend",
        sa.Column("agent_run_id", sa.String(length=26), nullable=False),
        sa.Column("tool", sa.String(length=100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.String(length=26), nullable=False),
        sa.Column("phase_id", sa.String(length=64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("cost_usd", sa.Float(), nullable=True),
        sa.Column("cost_estimated", sa.Boolean(), nullable=False),
        sa.Column("wall_seconds", sa.Float(), nullable=False),
        sa.Column("session_id", sa.String(length=200), nullable=True),
        sa.Column("stopped_by", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", runwright.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["plan_runs.run_id"], name=op.f("fk_plan_spend_run_id_plan_runs")
        ),
        sa.PrimaryKeyConstraint("agent_run_id", "tool", "attempt", name=op.f("pk_plan_spend")),
    )
    with op.batch_alter_table("plan_spend", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_spend_run_id_recorded_at"), ["run_id", "recorded_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_spend", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_spend_run_id_recorded_at"))
    op.drop_table("plan_spend")
