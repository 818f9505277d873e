"""Event workflows: a write a person skipped has its own ledger status, ``skipped``

Until now *skip* on a write in doubt recorded it as ``failed`` (``resolved_by = user_skip``),
although it may have happened. Such rows become ``skipped``; a run still waiting on one goes on
to ``next`` with ``skipped``, as before. ``wf_mutations.status`` is a plain string column (no
CHECK constraint), so only the rows change.

Revision ID: 0009_wf_skipped_mutations
Revises: 0007_wf_topic_counts
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009_wf_skipped_mutations"
down_revision: str | Sequence[str] | None = "0007_wf_topic_counts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE wf_mutations SET status = 'skipped' "
        "WHERE status = 'failed' AND resolved_by = 'user_skip'"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE wf_mutations SET status = 'failed' "
        "WHERE status = 'skipped' AND resolved_by = 'user_skip'"
    )
