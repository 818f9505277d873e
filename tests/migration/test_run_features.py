"""Migration 0011: each part's fields of a run leave ``runs`` for the part's table, data kept."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import Connection, MetaData, Table, inspect, select

from runwright.domain.ids import new_id
from runwright.store.core.system_database import SystemDatabase
from runwright.store.database import Database
from runwright.store.migrate import (
    alembic_config,
    current_revisions,
    head_revisions,
    read_current,
    upgrade,
)

#: The heads before 0011 (one per Alembic branch): the database as the previous release left it.
PREVIOUS_HEADS = (
    "0010_worker_jobs",
    "0002_execmodel",
    "0009_wf_skipped_mutations",
    "0004_patches",
    "0008_plan_spend",
)
#: Where each moved column goes.
MOVED = {
    "phase_runs": ("phase_id", "workstream_id"),
    "mode_runs": ("mode_id", "block_id"),
    "patch_runs": ("execution_request_id", "patches_created", "patches_applied"),
}
NO_FIELDS: dict[str, Any] = {
    "phase_id": None,
    "workstream_id": None,
    "mode_id": None,
    "block_id": None,
    "execution_request_id": None,
    "patches_created": 0,
    "patches_applied": 0,
}
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _migrate(db: Database, *, up: tuple[str, ...] = (), down: str | None = None) -> None:
    """Upgrade to each of ``up``, or downgrade to ``down``, in one transaction (as
    ``migrate.upgrade`` does: the connection is in a transaction before Alembic starts)."""
    with db.transaction() as conn:
        current_revisions(conn)
        for head in up:
            command.upgrade(alembic_config(conn), head)
        if down is not None:
            command.downgrade(alembic_config(conn), down)


def _runs_table(conn: Connection) -> Table:
    return Table("runs", MetaData(), autoload_with=conn)


def _fill(conn: Connection) -> dict[str, dict[str, Any]]:
    """Runs with every moved field set, with each one alone, and with none; one is a child."""
    cases: list[dict[str, Any]] = [
        {
            "phase_id": "PH-CORE-01",
            "workstream_id": "plan-7",
            "mode_id": "PIPELINE",
            "block_id": new_id(),
            "execution_request_id": new_id(),
            "patches_created": 3,
            "patches_applied": 2,
        },
        {"phase_id": "PH-DOC-01"},
        {"workstream_id": "ws-only"},
        {"mode_id": "CONTRACT"},
        {"block_id": new_id()},
        {"execution_request_id": "req-1"},
        {"patches_created": 1},
        {"patches_applied": 4},
        {},
        {},
    ]
    runs = _runs_table(conn)
    rows: dict[str, dict[str, Any]] = {}
    parent = None
    for i, fields in enumerate(cases):
        run_id = new_id()
        row = {
            "run_id": run_id,
            "project_id": "p",
            "kind": "job",
            "job_name": f"tests:job{i}",
            "state": "succeeded",
            "origin": '{"trigger_type":"manual"}',
            "step_attempts": i,
            "errors": 0,
            "created_at": T0,
            "updated_at": T0,
            "args": "[]",
            "kwargs": "{}",
            "parent_run_id": parent,
            "running_children": 0,
            "pending_deps": 0,
            "has_dependents": False,
            "attempt": 1,
            "cancel_requested": False,
            "event_seq": 0,
            **NO_FIELDS,
            **fields,
        }
        conn.execute(runs.insert(), [row])
        rows[run_id] = row
        parent = parent or run_id  # the runs after the first are its children
    return rows


def _moved_values(conn: Connection) -> dict[str, dict[str, Any]]:
    runs = _runs_table(conn)
    return {
        r.run_id: {name: getattr(r, name) for name in NO_FIELDS} for r in conn.execute(select(runs))
    }


def test_upgrade_moves_every_runs_fields_to_the_parts_tables_and_downgrade_restores_them(
    db_url: str,
) -> None:
    """A database at the previous heads, filled with runs carrying each moved field (and
    runs carrying none), upgrades: each run with a value has its row in ``phase_runs``,
    ``mode_runs`` or ``patch_runs`` with exactly its values, a run without has none, the
    columns are gone from ``runs`` and the store reads each run as before. Downgrading puts
    every value back on its run and drops the three tables."""
    db = Database(db_url)
    try:
        _migrate(db, up=PREVIOUS_HEADS)
        with db.transaction() as conn:
            rows = _fill(conn)
        assert read_current(db) == frozenset(PREVIOUS_HEADS)
        before = {run_id: {k: row[k] for k in NO_FIELDS} for run_id, row in rows.items()}

        upgrade(db)
        assert read_current(db) == head_revisions()
        with db.transaction(write=False) as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("runs")}
            assert columns.isdisjoint(NO_FIELDS)
            for table, names in MOVED.items():
                part = Table(table, MetaData(), autoload_with=conn)
                found = {
                    r.run_id: tuple(getattr(r, n) for n in names)
                    for r in conn.execute(select(part))
                }
                expected = {
                    run_id: tuple(values[n] for n in names)
                    for run_id, values in before.items()
                    if any(values[n] != NO_FIELDS[n] for n in names)
                }
                assert found == expected, table
        store = SystemDatabase(db)
        for run_id, values in before.items():
            run = store.get_run(run_id)
            shown = {
                "phase_id": run.phase_id,
                "workstream_id": run.workstream_id,
                "mode_id": run.mode_id,
                "block_id": run.block_id,
                "execution_request_id": run.execution_request_id,
                "patches_created": run.counters.patches_created,
                "patches_applied": run.counters.patches_applied,
            }
            assert shown == values, run_id
            assert run.counters.step_attempts == rows[run_id]["step_attempts"]

        _migrate(db, down="0010_worker_jobs")
        assert read_current(db) == frozenset(PREVIOUS_HEADS)
        with db.transaction(write=False) as conn:
            tables = set(inspect(conn).get_table_names())
            assert tables.isdisjoint(MOVED)
            assert _moved_values(conn) == before
    finally:
        db.dispose()


def test_a_downgraded_database_upgrades_again_with_its_values(db_url: str) -> None:
    """Upgrade, downgrade and upgrade again: the second upgrade moves the values the
    downgrade put back, and a run an older runwright created in between keeps its own."""
    db = Database(db_url)
    try:
        _migrate(db, up=PREVIOUS_HEADS)
        with db.transaction() as conn:
            rows = _fill(conn)
        upgrade(db)
        _migrate(db, down="0010_worker_jobs")
        with db.transaction() as conn:
            extra = dict(next(iter(rows.values())), run_id=new_id(), parent_run_id=None)
            extra.update(execution_request_id=None, patches_created=0, patches_applied=0)
            conn.execute(_runs_table(conn).insert(), [extra])
        upgrade(db)
        store = SystemDatabase(db)
        first = next(iter(rows))
        again = store.get_run(first)
        assert (again.phase_id, again.mode_id, again.counters.patches_created) == (
            "PH-CORE-01",
            "PIPELINE",
            3,
        )
        added = store.get_run(extra["run_id"])
        assert (added.phase_id, added.block_id, added.execution_request_id) == (
            "PH-CORE-01",
            rows[first]["block_id"],
            None,
        )
        assert (added.counters.patches_created, added.counters.patches_applied) == (0, 0)
    finally:
        db.dispose()
