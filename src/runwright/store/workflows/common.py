"""What every workflow transaction shares: lease fencing, the workflow row lock, the chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

import runwright.store.workflows.statements as st
from runwright.domain.events import GENESIS_HASH, EventKind
from runwright.domain.workflows.phases import RunStatus
from runwright.errors import Conflict, LeaseLost, NotFound
from runwright.store.core.chain import ChainHead, NewEvent, append_locked
from runwright.store.core.records import Lease
from runwright.store.schema import runs
from runwright.store.schema.workflows import wf_handler_runs, wf_workflows
from runwright.store.types import loads

#: How many ids an event payload lists before it only counts them.
PAYLOAD_IDS = 100


@dataclass(slots=True)
class Fenced:
    """The leased run's chain head, locked by this transaction, and its cancel flag."""

    lease: Lease
    head: ChainHead
    cancel_requested: bool

    def append(self, conn: Connection, events: list[NewEvent], now: datetime) -> None:
        """Append events to the leased run and keep the lease's idea of the head current."""
        if not events:
            return
        self.head = append_locked(conn, self.lease.run_id, events, now, head=self.head)
        self.lease.event_seq, self.lease.last_event_hash = self.head.seq, self.head.hash


_RUN_WORKFLOW: dict[str, str] = {}


def fence_run(conn: Connection, lease: Lease) -> tuple[Fenced, Any]:
    """Lock the leased run and its handler row in one statement; LeaseLost if not ours."""
    row = st.FENCE_RUN.execute(conn, {"run_id": lease.run_id}).first()
    if row is None:
        raise NotFound(f"run {lease.run_id} is not a workflow handler run", run_id=lease.run_id)
    if row.core_lease_owner != lease.worker_id or row.core_attempt != lease.attempt:
        raise LeaseLost(
            f"worker {lease.worker_id} lost its lease on run {lease.run_id}", run_id=lease.run_id
        )
    head = ChainHead(row.core_event_seq, row.core_last_event_hash or GENESIS_HASH)
    return Fenced(lease, head, bool(row.core_cancel_requested)), row


def update_where(conn: Connection, table: Table, where: dict[str, Any], **values: Any) -> int:
    """``UPDATE table SET values WHERE where`` with a statement built once per shape."""
    stmt = st.update_by(table.name, tuple(sorted(where)), frozenset(values))
    params = {f"w_{k}": v for k, v in where.items()}
    params.update({f"v_{k}": v for k, v in values.items()})
    return int(stmt.execute(conn, params).rowcount or 0)


def fence(conn: Connection, lease: Lease) -> Fenced:
    """Lock the leased run's row; raise LeaseLost unless this worker still holds the lease."""
    row = conn.execute(
        select(
            runs.c.lease_owner,
            runs.c.attempt,
            runs.c.event_seq,
            runs.c.last_event_hash,
            runs.c.cancel_requested,
        )
        .where(runs.c.run_id == lease.run_id)
        .with_for_update()
    ).first()
    if row is None or row.lease_owner != lease.worker_id or row.attempt != lease.attempt:
        raise LeaseLost(
            f"worker {lease.worker_id} lost its lease on run {lease.run_id}", run_id=lease.run_id
        )
    head = ChainHead(row.event_seq, row.last_event_hash or GENESIS_HASH)
    return Fenced(lease, head, bool(row.cancel_requested))


def lock_workflow(conn: Connection, name: str) -> Any:
    """Lock and return a workflow's row (always locked before any run row: one lock order)."""
    row = st.LOCK_WORKFLOW.execute(conn, {"name": name}).first()
    if row is None:
        raise NotFound(
            f"no workflow named {name!r}",
            hint="deploy it with `runwright workflow deploy MODULE:ATTR`",
            workflow=name,
        )
    return row


def handler_row(conn: Connection, run_id: str, *, lock: bool = True) -> Any:
    """A handler run's row (locked unless ``lock=False``), or NotFound."""
    stmt = st.HANDLER_ROW_LOCK if lock else st.HANDLER_ROW
    row = stmt.execute(conn, {"run_id": run_id}).first()
    if row is None:
        raise NotFound(f"run {run_id} is not a workflow handler run", run_id=run_id)
    return row


def workflow_of(conn: Connection, run_id: str) -> str:
    """The workflow a handler run belongs to."""
    found = _RUN_WORKFLOW.get(run_id)
    if found is not None:
        return found
    row = st.WORKFLOW_OF.execute(conn, {"run_id": run_id}).first()
    name = None if row is None else row.workflow
    if name is None:
        raise NotFound(f"run {run_id} is not a workflow handler run", run_id=run_id)
    remember_workflow(run_id, str(name))
    return str(name)


def remember_workflow(run_id: str, workflow: str) -> None:
    """Note which workflow a handler run belongs to (it never changes), so ``workflow_of``
    need not read it."""
    if len(_RUN_WORKFLOW) > 50_000:
        _RUN_WORKFLOW.clear()
    _RUN_WORKFLOW[run_id] = workflow


def append_to(
    conn: Connection, run_id: str, events: list[NewEvent], now: datetime, **values: Any
) -> None:
    """Append events to a run nobody holds a lease on here (human actions, the scheduler)."""
    append_locked(conn, run_id, events, now, **values)


def ids_payload(ids: list[str]) -> dict[str, Any]:
    """A short, bounded list of ids for an event payload."""
    return {"count": len(ids), "ids": ids[:PAYLOAD_IDS]}


def phase_event(run_from: str, run_to: str, **extra: Any) -> NewEvent:
    """A HANDLER_PHASE_CHANGED event."""
    return NewEvent(EventKind.HANDLER_PHASE_CHANGED, {"from": run_from, "to": run_to, **extra})


RECONCILING = "reconciliation"


def h_update(conn: Connection, run_id: str, now: datetime, **values: Any) -> None:
    """Update a handler run's row (and its updated_at)."""
    update_where(conn, wf_handler_runs, {"run_id": run_id}, updated_at=now, **values)


def require_status(h: Any, *allowed: RunStatus) -> None:
    """Raise Conflict unless the handler run is in one of ``allowed`` (default: active)."""
    ok = allowed or (RunStatus.ACTIVE,)
    if RunStatus(h.status) not in ok:
        raise Conflict(f"handler run {h.run_id} is {h.status}", run_id=h.run_id, status=h.status)


def reserved_count(h: Any) -> int:
    """How many events a handler run's row says it reserved."""
    return sum(len(r.get("ids", [])) for r in loads(h.reservations) or [])


def clear_reconciling(conn: Connection, wf: Any, run_id: str, now: datetime) -> None:
    """Clear the workflow error this run set while its mutation was in doubt."""
    if wf.error_kind == RECONCILING and wf.error_run_id == run_id:
        conn.execute(
            wf_workflows.update()
            .where(wf_workflows.c.name == wf.name)
            .values(error="", error_kind="", error_run_id=None, updated_at=now)
        )
