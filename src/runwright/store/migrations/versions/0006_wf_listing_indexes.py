"""Event workflows: indexes that let the dashboard's listings page by id without sorting

Topic events newest first (all, or of one status), a workflow's inputs and its handler runs
newest first: each listing orders by its ULID, so each index ends with it.

Revision ID: 0006_wf_listing_indexes
Revises: 0003_workflows
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_wf_listing_indexes"
down_revision: str | Sequence[str] | None = "0003_workflows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("wf_events", ["workflow", "topic", "event_id"]),
    ("wf_events", ["workflow", "topic", "status", "event_id"]),
    ("wf_inputs", ["workflow", "input_id"]),
    ("wf_handler_runs", ["workflow", "run_id"]),
)


def _name(table: str, columns: list[str]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in INDEXES:
        op.create_index(op.f(_name(table, columns)), table, columns, unique=False)


def downgrade() -> None:
    for table, columns in reversed(INDEXES):
        op.drop_index(op.f(_name(table, columns)), table_name=table)
