"""Runs keep only the core's columns; each part's fields of a run move to the part's table

``runs.phase_id`` and ``workstream_id`` move to ``phase_runs`` (plans), ``mode_id`` and
``block_id`` to ``mode_runs`` (execution model), ``execution_request_id``, ``patches_created``
and ``patches_applied`` to ``patch_runs`` (patches); each keyed by ``run_id``. Every run with
one of these fields set (a counter above 0) gets its row with the values it had; a run with
none gets no row. Then the columns are dropped. Downgrade adds them back (at the end of the
table), copies the values back and drops the three tables.

On SQLite the columns are dropped with ``ALTER TABLE … DROP COLUMN`` (SQLite 3.35 or newer)
rather than by copying ``runs``: the migration runs in one transaction with foreign keys on,
and ``runs`` is referenced by most tables. None of the dropped columns is indexed.

Revision ID: 0011_run_features
Revises: 0010_worker_jobs
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_run_features"
down_revision: str | Sequence[str] | None = "0010_worker_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Each part's table and its columns, as they were on ``runs``.
_MOVES: tuple[tuple[str, tuple[sa.Column[object], ...]], ...] = (
    (
        "phase_runs",
        (
            sa.Column("phase_id", sa.String(length=200), nullable=True),
            sa.Column("workstream_id", sa.String(length=200), nullable=True),
        ),
    ),
    (
        "mode_runs",
        (
            sa.Column("mode_id", sa.String(length=64), nullable=True),
            sa.Column("block_id", sa.String(length=26), nullable=True),
        ),
    ),
    (
        "patch_runs",
        (
            sa.Column("execution_request_id", sa.String(length=200), nullable=True),
            sa.Column("patches_created", sa.Integer(), nullable=False),
            sa.Column("patches_applied", sa.Integer(), nullable=False),
        ),
    ),
)


def _copy(column: sa.Column[object]) -> sa.Column[object]:
    return sa.Column(column.name, column.type, nullable=column.nullable)


def _tables(name: str, columns: tuple[sa.Column[object], ...]) -> tuple[sa.TableClause, ...]:
    """Lightweight ``runs`` and part tables with the moved columns (for the data copies)."""
    names = ("run_id", *(c.name for c in columns))
    return sa.table("runs", *map(sa.column, names)), sa.table(name, *map(sa.column, names))


def upgrade() -> None:
    for table, columns in _MOVES:
        op.create_table(
            table,
            sa.Column("run_id", sa.String(length=26), nullable=False),
            *(_copy(c) for c in columns),
            sa.ForeignKeyConstraint(
                ["run_id"], ["runs.run_id"], name=op.f(f"fk_{table}_run_id_runs")
            ),
            sa.PrimaryKeyConstraint("run_id", name=op.f(f"pk_{table}")),
        )
        runs, part = _tables(table, columns)
        # a row for each run with a value set: a nullable column not NULL, a counter above 0
        keep = sa.or_(
            *(runs.c[c.name].is_not(None) if c.nullable else runs.c[c.name] != 0 for c in columns)
        )
        names = [c.name for c in part.c]
        op.execute(part.insert().from_select(names, sa.select(*runs.c).where(keep)))
    with op.batch_alter_table("mode_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mode_runs_block_id_run_id"), ["block_id", "run_id"], unique=False
        )
    with op.batch_alter_table("runs", schema=None, recreate="never") as batch_op:
        for _, columns in _MOVES:
            for column in columns:
                batch_op.drop_column(column.name)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("runs", schema=None, recreate="never") as batch_op:
        for _, columns in _MOVES:
            for column in columns:
                default = None if column.nullable else sa.text("0")
                batch_op.add_column(
                    sa.Column(
                        column.name, column.type, nullable=column.nullable, server_default=default
                    )
                )
    for table, columns in _MOVES:
        runs, part = _tables(table, columns)
        values = {
            c.name: sa.select(part.c[c.name])
            .where(part.c.run_id == runs.c.run_id)
            .scalar_subquery()
            for c in columns
        }
        op.execute(runs.update().values(values).where(runs.c.run_id.in_(sa.select(part.c.run_id))))
    if not sqlite:  # as 0001 made them: no server default (SQLite cannot drop one in place)
        for _, columns in _MOVES:
            for column in columns:
                if not column.nullable:
                    op.alter_column("runs", column.name, server_default=None)
    with op.batch_alter_table("mode_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mode_runs_block_id_run_id"))
    for table, _ in reversed(_MOVES):
        op.drop_table(table)
