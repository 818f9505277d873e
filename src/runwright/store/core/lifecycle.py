"""What happens in the same transaction when a run ends or is cancelled.

A run that ends wakes its parent (when the parent waits on it), frees a ``max_parallel`` slot,
releases or cancels the runs that depend on it, and cancellation spreads to children. That
cascade is the first thing every end does; the run-end hooks of the parts (``run_end``) run
after it, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, case, func, null, select, text

from runwright.domain.events import EventKind
from runwright.domain.states import (
    ACTIVE_RUN_STATES,
    TERMINAL_RUN_STATES,
    RunState,
    StateReason,
    check_run_transition,
)
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import ChainHead, NewEvent, append_locked
from runwright.store.core.run_end import run_end_of, run_ended
from runwright.store.database import WAKE_FLAG
from runwright.store.driver_sql import DriverStatement
from runwright.store.schema import run_deps, runs
from runwright.store.types import UtcDateTime, loads

_TERMINAL = [s.value for s in TERMINAL_RUN_STATES]
_DEPENDENTS = select(run_deps.c.run_id).where(run_deps.c.depends_on_run_id == bindparam("b_done"))
_RELEASED = and_(
    runs.c.pending_deps == 1,
    runs.c.state == RunState.PENDING.value,
    runs.c.available_at.is_(None),
)
_NOW: Any = bindparam("b_now", type_=UtcDateTime())
_RELEASE_DEPENDENTS = DriverStatement(
    runs.update()
    .where(runs.c.run_id.in_(_DEPENDENTS.scalar_subquery()))
    .values(
        pending_deps=runs.c.pending_deps - 1,
        available_at=case((_RELEASED, _NOW), else_=runs.c.available_at),
        state_reason=case((_RELEASED, null()), else_=runs.c.state_reason),
        updated_at=case((_RELEASED, _NOW), else_=runs.c.updated_at),
    )
    .returning(runs.c.pending_deps, runs.c.state)
)
_LOCK_PARENT = DriverStatement(
    select(
        runs.c.state,
        runs.c.state_reason,
        runs.c.wait_for,
        runs.c.wait_remaining,
        runs.c.max_parallel,
        runs.c.available_at,
    )
    .where(runs.c.run_id == bindparam("b_parent"))
    .with_for_update()
)
_PARENT_SETS: dict[str, Any] = {
    "running_children": runs.c.running_children - 1,
    "wait_remaining": runs.c.wait_remaining - 1,
    "available_at": _NOW,
}


@lru_cache(maxsize=8)
def _parent_update(columns: frozenset[str]) -> DriverStatement:
    """The parent's UPDATE for one combination of what a child's end changes on it."""
    return DriverStatement(
        runs.update()
        .where(runs.c.run_id == bindparam("b_parent"))
        .values({c: _PARENT_SETS[c] for c in sorted(columns)})
    )


def _awaits(wait_for: str | None, child_id: str) -> bool:
    """True if the parent's ``wait_for`` (a JSON list of run ids) names ``child_id``.

    A run id is alphanumeric, so its quoted form appears in the JSON text exactly when it is
    an element; that saves parsing a list of hundreds of ids for every child that ends.
    """
    if not wait_for:
        return False
    if child_id.isalnum():
        return f'"{child_id}"' in wait_for
    return child_id in (loads(wait_for) or ())


def notify_ready(conn: Connection) -> None:
    """Wake idle workers (a hint only; polling is the correctness path): PostgreSQL's NOTIFY,
    delivered at commit; on SQLite a local signal sent once the transaction commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify('runwright_ready', '')"))
    else:
        conn.info[WAKE_FLAG] = True


def open_count(conn: Connection, run_ids: list[str]) -> int:
    """How many of ``run_ids`` have not reached a terminal state."""
    if not run_ids:
        return 0
    return int(
        conn.execute(
            select(func.count())
            .select_from(runs)
            .where(runs.c.run_id.in_(run_ids), runs.c.state.not_in(_TERMINAL))
        ).scalar_one()
    )


def after_terminal(
    conn: Connection,
    run_id: str,
    parent_run_id: str | None,
    state: RunState,
    now: datetime,
    *,
    was_running: bool,
    has_dependents: bool = True,
) -> None:
    """Propagate a run's end to its parent and to the runs that depend on it."""
    if parent_run_id:
        free_slot_and_wake_parent(conn, parent_run_id, run_id, now, was_running=was_running)
    if not has_dependents:
        return
    if state == RunState.SUCCEEDED:
        # One statement: every dependent loses a pending dependency; one whose last dependency
        # this was (and that nothing else holds back) becomes available now.
        released = _RELEASE_DEPENDENTS.execute(conn, {"b_done": run_id, "b_now": now}).all()
        if any(r.pending_deps == 0 and r.state == RunState.PENDING.value for r in released):
            notify_ready(conn)
        return
    dependents = list(conn.execute(_DEPENDENTS, {"b_done": run_id}).scalars())
    for dep in dependents:
        terminate(
            conn,
            dep,
            RunState.CANCELED,
            f"{StateReason.DEPENDENCY_FAILED}:{run_id}",
            now,
            only_if_pending=True,
        )


def free_slot_and_wake_parent(
    conn: Connection, parent_id: str, child_id: str, now: datetime, *, was_running: bool
) -> None:
    """Give back the child's parallel slot and wake the parent once everything it awaits ended."""
    parent = _LOCK_PARENT.execute(conn, {"b_parent": parent_id}).first()
    if parent is None:
        return
    values: dict[str, Any] = {}
    if was_running and parent.max_parallel is not None:
        values["running_children"] = True
    if (
        parent.state == RunState.WAITING.value
        and parent.state_reason == StateReason.WAITING_CHILDREN
        and parent.available_at is None
        and parent.wait_remaining
        and _awaits(parent.wait_for, child_id)
    ):
        # The parent counted its open children when it parked (under its row lock), so each
        # awaited child that ends afterwards takes exactly one off; the last one wakes it.
        values["wait_remaining"] = True
        if parent.wait_remaining == 1:
            values["available_at"] = True
    if values:
        _parent_update(frozenset(values)).execute(conn, {"b_parent": parent_id, "b_now": now})
        if "available_at" in values:
            notify_ready(conn)


def terminate(
    conn: Connection,
    run_id: str,
    state: RunState,
    reason: str,
    now: datetime,
    *,
    only_if_pending: bool = False,
    by: str | None = None,
) -> bool:
    """End a run that no worker holds (pending or waiting): cascade, then the run-end hooks,
    in the caller's transaction. False if nothing to do."""
    row = conn.execute(select(runs).where(runs.c.run_id == run_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"run {run_id} not found", run_id=run_id)
    current = RunState(row.state)
    if only_if_pending and current not in {RunState.PENDING, RunState.WAITING}:
        return False
    check_run_transition(current, state, run_id=run_id)
    payload: dict[str, Any] = {"from": current.value, "to": state.value, "reason": reason}
    if by:
        payload["by"] = by
    append_locked(
        conn,
        run_id,
        [NewEvent(EventKind.RUN_STATE_CHANGED, payload)],
        now,
        head=ChainHead(row.event_seq, row.last_event_hash or "0" * 64),
        state=state.value,
        state_reason=reason,
        ended_at=now,
        available_at=None,
        wake_at=None,
    )
    cancel_children(conn, run_id, now, by=by or f"parent {run_id}")
    after_terminal(
        conn,
        run_id,
        row.parent_run_id,
        state,
        now,
        was_running=False,
        has_dependents=bool(row.has_dependents),
    )
    run_ended(conn, run_end_of(row, state, reason, now))
    return True


def cancel_children(conn: Connection, parent_id: str, now: datetime, *, by: str) -> None:
    """Cancel every child of ``parent_id`` that has not ended."""
    children = conn.execute(
        select(runs.c.run_id, runs.c.state).where(
            runs.c.parent_run_id == parent_id,
            runs.c.state.in_([s.value for s in ACTIVE_RUN_STATES]),
        )
    ).all()
    for child in children:
        cancel(conn, child.run_id, now, by=by)


def cancel(conn: Connection, run_id: str, now: datetime, *, by: str) -> None:
    """Cancel a run: at once if no worker holds it, else ask its worker to stop."""
    row = conn.execute(
        select(runs.c.state, runs.c.cancel_requested)
        .where(runs.c.run_id == run_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"run {run_id} not found", run_id=run_id)
    state = RunState(row.state)
    if state in TERMINAL_RUN_STATES:
        raise Conflict(
            f"run {run_id} already ended ({state.value})",
            hint="only pending, waiting or running runs can be cancelled",
            run_id=run_id,
        )
    if state == RunState.RUNNING:
        if not row.cancel_requested:
            append_locked(
                conn,
                run_id,
                [NewEvent(EventKind.CANCEL_REQUESTED, {"by": by})],
                now,
                cancel_requested=True,
            )
        cancel_children(conn, run_id, now, by=by)
        return
    terminate(conn, run_id, RunState.CANCELED, StateReason.CANCEL_REQUESTED, now, by=by)
