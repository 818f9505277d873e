"""Appending to a run's hash-chained event log inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Update, bindparam, select
from sqlalchemy.sql import ClauseElement

from runwright.domain.events import GENESIS_HASH, EventKind, event_hash
from runwright.domain.ids import new_id
from runwright.errors import NotFound
from runwright.store.driver_sql import DriverStatement
from runwright.store.schema import run_events, runs
from runwright.store.types import dumps

INSERT_EVENTS = run_events.insert()
EVENT_COLUMNS = tuple(c.name for c in run_events.columns)
_INSERT_EVENT_ROWS = DriverStatement(INSERT_EVENTS, keys=EVENT_COLUMNS)
_LOCK_HEAD = (
    select(runs.c.event_seq, runs.c.last_event_hash)
    .where(runs.c.run_id == bindparam("run_id"))
    .with_for_update()
)


@lru_cache(maxsize=128)
def _head_update(columns: frozenset[str]) -> DriverStatement:
    """``UPDATE runs SET event_seq, last_event_hash, updated_at[, columns] WHERE run_id``,
    built once per set of extra columns (parameters ``b_run`` and ``v_<column>``)."""
    names = sorted(columns | {"event_seq", "last_event_hash", "updated_at"})
    stmt: Update = (
        runs.update()
        .where(runs.c.run_id == bindparam("b_run"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )
    return DriverStatement(stmt)


def insert_events(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert built event rows (one statement; on PostgreSQL several rows go as one INSERT)."""
    if not rows:
        return
    if len(rows) == 1 or conn.dialect.name == "sqlite":
        _INSERT_EVENT_ROWS.execute(conn, rows[0] if len(rows) == 1 else rows)
    else:
        conn.execute(INSERT_EVENTS, rows)  # insertmanyvalues: one statement, one round trip


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: its kind, payload and optional step attempt."""

    kind: EventKind
    payload: dict[str, Any]
    step_attempt_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a run's log ends: the last sequence number and its hash."""

    seq: int
    hash: str


def build_events(
    run_id: str, head: ChainHead, events: list[NewEvent], now: datetime
) -> tuple[list[dict[str, Any]], ChainHead]:
    """Rows for ``events`` chained after ``head``, and the new head."""
    rows: list[dict[str, Any]] = []
    seq, prev = head.seq, head.hash
    for ev in events:
        seq += 1
        event_id = new_id()
        kind = ev.kind.value
        digest = event_hash(
            event_id=event_id,
            run_id=run_id,
            seq=seq,
            ts=now,
            kind=kind,
            step_attempt_id=ev.step_attempt_id,
            payload=ev.payload,
            prev_hash=prev,
        )
        rows.append(
            {
                "event_id": event_id,
                "run_id": run_id,
                "seq": seq,
                "ts": now,
                "kind": kind,
                "step_attempt_id": ev.step_attempt_id,
                "payload": dumps(ev.payload, what=f"payload of event {kind}"),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    return rows, ChainHead(seq, prev)


def lock_head(conn: Connection, run_id: str) -> ChainHead:
    """Read (and on PostgreSQL lock) the run's chain head for an append in this transaction."""
    row = conn.execute(_LOCK_HEAD, {"run_id": run_id}).first()
    if row is None:
        raise NotFound(f"run {run_id} not found", run_id=run_id)
    return ChainHead(row.event_seq, row.last_event_hash or GENESIS_HASH)


def append_locked(
    conn: Connection,
    run_id: str,
    events: list[NewEvent],
    now: datetime,
    *,
    head: ChainHead | None = None,
    **run_values: Any,
) -> ChainHead:
    """Append ``events`` to a run whose head is locked by this transaction; update the run.

    ``run_values`` are extra columns to set on the run in the same UPDATE.
    """
    head = head or lock_head(conn, run_id)
    rows, new_head = build_events(run_id, head, events, now)
    values = dict(run_values, event_seq=new_head.seq, last_event_hash=new_head.hash, updated_at=now)
    if any(isinstance(v, ClauseElement) for v in run_values.values()):
        conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))
    else:
        params = {f"v_{k}": v for k, v in values.items()}
        params["b_run"] = run_id
        _head_update(frozenset(run_values)).execute(conn, params)
    insert_events(conn, rows)
    return new_head
