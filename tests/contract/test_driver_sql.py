"""Hot statements sent through the driver send exactly what SQLAlchemy would (both databases)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from runwright.domain.ids import new_id
from runwright.store import driver_sql
from runwright.store.core import chain
from runwright.store.core import worker_ops as sql_worker
from runwright.store.core.statements import CLAIM_SQL, fenced_driver
from runwright.store.core.system_database import SystemDatabase
from runwright.store.database import Database
from runwright.store.driver_sql import DriverStatement
from tests.contract.helpers import T0, at, claim, new_run


class _Rollback(Exception):
    """Ends a transaction without keeping what it wrote."""


def _sent(db: Database, run: Any) -> list[tuple[str, Any]]:
    """What reached the driver while ``run(conn)`` ran in a rolled-back transaction: through
    SQLAlchemy's cursor execution or through the hot path's ``send``."""
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        seen.append((statement, parameters))

    original = driver_sql.send

    def send(conn: Any, sql: str, params: Any, *, many: bool = False) -> Any:
        seen.append((sql, params))
        return original(conn, sql, params, many=many)

    event.listen(db.engine, "before_cursor_execute", listen)
    driver_sql.send = send
    try:
        with db.transaction() as conn:
            run(conn)
            raise _Rollback
    except _Rollback:
        pass
    finally:
        driver_sql.send = original
        event.remove(db.engine, "before_cursor_execute", listen)
    return seen


def _same_as_core(db: Database, stmt: DriverStatement, params: dict[str, Any]) -> None:
    core = _sent(db, lambda conn: conn.execute(stmt.stmt, params))
    driver = _sent(db, lambda conn: stmt.execute(conn, params))
    assert driver == core
    assert len(driver) == 1


def _cases(store: SystemDatabase) -> list[tuple[DriverStatement, dict[str, Any]]]:
    store.create_run(new_run(), T0)
    lease = claim(store, "w1", T0, 30)
    attempt_id = new_id()
    fence = {"b_run": lease.run_id, "b_owner": "w1", "b_attempt": 1, "b_seq": lease.event_seq}
    return [
        (
            CLAIM_SQL,
            {
                "b_run": lease.run_id,
                "v_attempt": 2,
                "v_owner": "w2",
                "v_expires": at(60),
                "v_started": T0,
                "v_deadline": None,
                "v_now": at(1),
                "v_seq": 9,
                "v_hash": "a" * 64,
            },
        ),
        (
            fenced_driver(
                frozenset({"event_seq", "last_event_hash", "updated_at"}),
                frozenset({"step_attempts", "errors"}),
            ),
            {
                **fence,
                "v_event_seq": 5,
                "v_last_event_hash": "b" * 64,
                "v_updated_at": at(2),
                "d_step_attempts": 1,
                "d_errors": 0,
            },
        ),
        (
            fenced_driver(
                frozenset({"state", "ended_at", "result", "event_seq", "last_event_hash"}),
                returning=("parent_run_id", "has_dependents"),
            ),
            {
                **fence,
                "v_state": "succeeded",
                "v_ended_at": at(3),
                "v_result": "[1]",
                "v_event_seq": 5,
                "v_last_event_hash": "c" * 64,
            },
        ),
        (
            sql_worker._INSERT_ATTEMPT,
            {
                "step_attempt_id": attempt_id,
                "run_id": lease.run_id,
                "sequence": 1,
                "step_key": "s",
                "attempt": 1,
                "tool_id": "t:f",
                "state": "completed",
                "idempotent": True,
                "started_at": at(1),
                "ended_at": at(2),
                "failure": None,
                "worker_id": "w1",
                "tool_run_id": None,
                "execution_request_id": None,
                "prompt_id": None,
                "outputs": "{}",
            },
        ),
        (
            sql_worker._INSERT_RESULT,
            {
                "run_id": lease.run_id,
                "step_key": "s",
                "status": "completed",
                "result": '{"a":1}',
                "failure": None,
                "step_attempt_id": attempt_id,
                "completed_at": at(2),
            },
        ),
        (
            sql_worker._CLOSE_ATTEMPT,
            {
                "b_id": attempt_id,
                "v_state": "error",
                "v_ended_at": at(4),
                "v_failure": '{"type":"X"}',
                "v_outputs": "{}",
            },
        ),
        (
            chain._head_update(frozenset({"state", "available_at"})),
            {
                "b_run": lease.run_id,
                "v_state": "waiting",
                "v_available_at": None,
                "v_event_seq": 3,
                "v_last_event_hash": "d" * 64,
                "v_updated_at": at(5),
            },
        ),
        (
            chain._INSERT_EVENT_ROWS,
            {
                "event_id": new_id(),
                "run_id": lease.run_id,
                "seq": 99,
                "ts": at(6),
                "kind": "note",
                "step_attempt_id": None,
                "payload": "{}",
                "prev_hash": "e" * 64,
                "hash": "f" * 64,
            },
        ),
    ]


def test_driver_statements_send_what_sqlalchemy_sends(store: SystemDatabase) -> None:
    """Each hot statement sends the same SQL text and the same converted values (timestamps
    as the dialect stores them, fixed values such as the claim's state included)."""
    for stmt, params in _cases(store):
        _same_as_core(store.db, stmt, params)


def test_a_missing_parameter_is_named(store: SystemDatabase) -> None:
    """Leaving out a required parameter fails before anything is sent, naming it."""
    with store.db.transaction() as conn, pytest.raises(KeyError, match="v_started"):
        CLAIM_SQL.execute(conn, {"v_attempt": 1})


def test_a_statement_needing_computed_defaults_is_refused(database: Database) -> None:
    """A statement whose columns would need Python-side defaults cannot run this way."""
    from runwright.store.schema import runs

    stmt = DriverStatement(runs.insert(), keys=["run_id"])
    with database.transaction() as conn, pytest.raises(ValueError, match="defaults"):
        stmt.execute(conn, {"run_id": "x"})


def test_sqlite_timestamps_are_the_text_sqlalchemy_stores() -> None:
    """The SQLite shortcut for timestamps gives SQLAlchemy's text for any zone and year, and
    refuses naive datetimes as the column type does."""
    from datetime import UTC, datetime, timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from runwright.store.driver_sql import _sqlite_utc
    from runwright.store.types import UtcDateTime

    dialect = sqlite.dialect()
    reference = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert reference is not None
    for value in (
        datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 3, 1, 0, 30, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        None,
    ):
        assert _sqlite_utc(value) == reference(value)
    with pytest.raises(ValueError, match="naive"):
        _sqlite_utc(datetime(2026, 3, 1))


@pytest.mark.postgres
def test_the_postgres_step_record_sends_what_sqlalchemy_sends(pg_url: str) -> None:
    """PostgreSQL's one-statement step record (a text() statement) goes to the driver as
    SQLAlchemy would send it."""
    from runwright.store.core import pg_fast
    from runwright.store.migrate import upgrade

    db = Database(pg_url)
    upgrade(db)
    store = SystemDatabase(db)
    store.create_run(new_run(), T0)
    lease = claim(store, "w1", T0, 30)
    params = {
        "run": lease.run_id,
        "owner": "w1",
        "attempt": 1,
        "seq": lease.event_seq,
        "n_seq": lease.event_seq + 1,
        "n_hash": "a" * 64,
        "now": at(1),
        "d_steps": 1,
        "d_errors": 0,
        "events": "[]",
        "begun": False,
        "has_memo": False,
        "m_status": None,
        "m_result": None,
        "m_failure": None,
        "m_completed_at": None,
        "evidence": "[]",
        "a_id": new_id(),
        "a_sequence": 1,
        "a_step_key": "s",
        "a_attempt": 1,
        "a_tool_id": "t:f",
        "a_state": "completed",
        "a_idempotent": True,
        "a_started_at": at(1),
        "a_ended_at": at(1),
        "a_failure": None,
        "a_worker_id": "w1",
        "a_tool_run_id": None,
        "a_execution_request_id": None,
        "a_prompt_id": None,
        "a_outputs": "{}",
    }
    try:
        _same_as_core(store.db, pg_fast._RECORD_STEP, params)
    finally:
        db.dispose()


def test_a_driver_error_is_translated_like_any_other(store: SystemDatabase) -> None:
    """A constraint violated by a hot statement comes back as runwright's Conflict (the driver's
    error wrapped as SQLAlchemy wraps it), and the transaction writes nothing."""
    from runwright.errors import Conflict

    store.create_run(new_run(), T0)
    lease = claim(store, "w1", T0, 30)
    params = next(p for s, p in _cases(store) if s is sql_worker._INSERT_ATTEMPT)
    params = {**params, "run_id": lease.run_id}

    def twice(conn: Any) -> None:
        sql_worker._INSERT_ATTEMPT.execute(conn, params)
        sql_worker._INSERT_ATTEMPT.execute(conn, params)

    with pytest.raises(Conflict, match="constraint"):
        store.db.run(twice)
    assert store.list_step_attempts(lease.run_id) == []


def test_a_pinned_connection_serves_each_transaction_and_is_replaced_after_an_error(
    database: Database,
) -> None:
    """Inside ``pinned()`` one thread's transactions share one connection; after a failed
    transaction the next one checks out a new, working one; outside the block the pool hands
    connections out as before."""
    from sqlalchemy import text

    seen: list[Any] = []

    def which(conn: Any) -> None:
        seen.append(conn)
        conn.execute(text("SELECT 1"))

    with database.pinned():
        database.run(which)
        database.run(which)
        assert seen[0] is seen[1]

        def fails(conn: Any) -> None:
            which(conn)
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            database.run(fails)
        database.run(which)
    assert seen[3] is not seen[0]
    assert seen[0].closed
    database.run(which)
    assert seen[4] is not seen[3]


def test_a_query_returns_the_values_sqlalchemy_returns(store: SystemDatabase) -> None:
    """The claim query sent through the driver returns the same rows, values converted by
    their column types (timestamps, numbers, NULLs), as the same query run by SQLAlchemy."""
    from runwright.store.core.statements import claim_candidates

    store.create_run(new_run(), T0)
    store.create_run(new_run(), at(1))
    stmt = claim_candidates(not store.db.is_sqlite, 2, 1)
    params = {"now": at(60), "job_0": new_run().job_name}
    with store.db.transaction() as conn:
        core = [dict(r._mapping) for r in conn.execute(stmt.stmt, params)]
        found = stmt.execute(conn, params)
        driver = []
        while (row := found.fetchone()) is not None:
            driver.append(row._asdict())
    assert len(core) == 2
    assert driver == core
