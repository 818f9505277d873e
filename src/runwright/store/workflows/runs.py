"""A handler run's transitions under its worker's lease: each one transaction, fenced.

Phases move forward only (checked by the domain table); every write first locks the run's row
and checks that this worker still holds the lease, so a worker that lost it records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from runwright.domain.events import EventKind
from runwright.domain.runs import RunKind
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.domain.workflows.models import HandlerRun, Mutation, Reservation, WorkflowRecord
from runwright.domain.workflows.mutations import MutationStatus, check_mutation
from runwright.domain.workflows.phases import (
    HandlerType,
    Phase,
    RunStatus,
    check_phase,
    check_status,
    path_between,
)
from runwright.store.core.chain import NewEvent
from runwright.store.core.records import Lease
from runwright.store.core.run_end import RunEnd, on_run_end
from runwright.store.database import Database
from runwright.store.schema import runs
from runwright.store.schema.workflows import (
    wf_handler_runs,
    wf_handler_state,
    wf_mutations,
    wf_workflows,
)
from runwright.store.types import dumps, loads
from runwright.store.workflows.common import (
    RECONCILING,
    append_to,
    clear_reconciling,
    fence_run,
    h_update,
    handler_row,
    ids_payload,
    lock_workflow,
    phase_event,
    remember_workflow,
    require_status,
    reserved_count,
    update_where,
    workflow_of,
)
from runwright.store.workflows.defs import read_workflow, spec_of
from runwright.store.workflows.ending import Ended, Ending, end_run_in
from runwright.store.workflows.events import (
    Publish,
    caused_by_union_in,
    consume_in,
    publish_in,
    reserve_in,
)
from runwright.store.workflows.inputs import NewInput, insert_inputs_in
from runwright.store.workflows.rows import handler_run_from_row, mutation_from_row
from runwright.store.workflows.sched import start_next_in


@dataclass(slots=True)
class CommitSpec:
    """What a successful run commits."""

    output_state: Any = None
    keep_state: bool = False
    publishes: list[Publish] = field(default_factory=list)
    inherit_caused_by: bool = False
    inputs: list[NewInput] = field(default_factory=list)
    next_run_at: datetime | None = None
    clear_dirty: bool = False


class HandlerRunOps:
    """Fenced handler-run transitions."""

    db: Database

    # ---- reads ------------------------------------------------------------------------
    def run_context(self, run_id: str, workflow: str) -> tuple[HandlerRun, WorkflowRecord]:
        """A handler run and its workflow: two reads, each one statement in autocommit (on
        PostgreSQL, READ COMMITTED gives each statement its own snapshot in a transaction too;
        the handler run is leased to the caller, and every write it makes is fenced)."""
        run = self.db.run(
            lambda c: handler_run_from_row(handler_row(c, run_id, lock=False)),
            write=False,
            single_statement=True,
        )
        remember_workflow(run_id, run.workflow)
        record = self.db.run(
            lambda c: read_workflow(c, workflow, light=True), write=False, single_statement=True
        )
        return run, record

    def handler_run(self, run_id: str) -> HandlerRun:
        """One handler run."""
        return self.db.run(
            lambda c: handler_run_from_row(handler_row(c, run_id, lock=False)), write=False
        )

    def holds_lease(self, lease: Lease) -> bool:
        """True while the database still names this worker's claim on the run."""
        row = self.db.run(
            lambda c: c.execute(
                select(runs.c.lease_owner, runs.c.attempt).where(runs.c.run_id == lease.run_id)
            ).first(),
            write=False,
        )
        return row is not None and (row.lease_owner, row.attempt) == (
            lease.worker_id,
            lease.attempt,
        )

    def mutation_of(self, run_id: str) -> Mutation | None:
        """The ledger row of a run, if it made a mutation call."""
        q = select(wf_mutations).where(wf_mutations.c.handler_run_id == run_id)
        row = self.db.run(lambda c: c.execute(q).first(), write=False)
        return None if row is None else mutation_from_row(row)

    # ---- phases -----------------------------------------------------------------------
    def begin_phase(self, lease: Lease, run_id: str, target: Phase, now: datetime) -> None:
        """pending → executing (producer) or pending → preparing (consumer)."""

        def tx(conn: Connection) -> None:
            f, h = fence_run(conn, lease)
            require_status(h)
            check_phase(h.handler_type, h.phase, target, run_id=run_id)
            h_update(conn, run_id, now, phase=target.value)
            f.append(conn, [phase_event(h.phase, target.value)], now)

        self.db.run(tx)

    def save_prepared(
        self,
        lease: Lease,
        run_id: str,
        prepare_result: dict[str, Any],
        wanted: list[Reservation],
        wake_at: datetime | None,
        now: datetime,
    ) -> list[Reservation]:
        """preparing → prepared: store the result, reserve what is still pending, set wake_at."""

        def tx(conn: Connection) -> list[Reservation]:
            f, h = fence_run(conn, lease)
            require_status(h)
            check_phase(h.handler_type, h.phase, Phase.PREPARED, run_id=run_id)
            got = reserve_in(conn, h.workflow, run_id, wanted, now)
            stored = dict(prepare_result, reservations=[r.model_dump() for r in got])
            h_update(
                conn,
                run_id,
                now,
                phase=Phase.PREPARED.value,
                prepare_result=dumps(stored, what="prepare result"),
                reservations=dumps([r.model_dump() for r in got]),
            )
            update_where(
                conn,
                wf_handler_state,
                {"workflow": h.workflow, "handler": h.handler},
                wake_at=wake_at,
                updated_at=now,
            )
            events = [phase_event(h.phase, Phase.PREPARED.value)]
            if got:
                ids = [f"{r.topic}/{i}" for r in got for i in r.ids]
                events.insert(0, NewEvent(EventKind.TOPIC_EVENTS_RESERVED, ids_payload(ids)))
            f.append(conn, events, now)
            return got

        return self.db.run(tx)

    # ---- endings ----------------------------------------------------------------------
    def commit(self, lease: Lease, run_id: str, spec: CommitSpec, now: datetime) -> str | None:
        """→ committed in one transaction (see ``commit_in``); the host commits inside the
        transaction that ends the core run instead (``JobContext.finish_with``)."""
        return self.db.run(lambda conn: commit_in(conn, lease, run_id, spec, now))

    def end(self, lease: Lease, run_id: str, ending: Ending, now: datetime) -> Ended:
        """End the run without committing (a failure, a crash, a cancel)."""

        def tx(conn: Connection) -> Ended:
            wf = lock_workflow(conn, _workflow_of(conn, run_id))
            f, h = fence_run(conn, lease)
            path_between(
                h.handler_type,
                h.phase,
                ending.phase,
                reservations=reserved_count(h),
                outcome=ending.outcome or h.mutation_outcome,
                run_id=run_id,
            )
            if (
                ending.status is RunStatus.RELEASED
                or h.status == RunStatus.PAUSED_RECONCILIATION.value
            ):
                clear_reconciling(conn, wf, run_id, now)
                wf = lock_workflow(conn, wf.name)
            return end_run_in(conn, wf, h, ending, now, lambda evs: f.append(conn, evs, now))

        return self.db.run(tx)

    def resume_after_decision(self, lease: Lease, run_id: str, now: datetime) -> None:
        """A paused run whose write a person skipped: paused:reconciliation → active."""

        def tx(conn: Connection) -> None:
            f, h = fence_run(conn, lease)
            check_status(h.status, RunStatus.ACTIVE, run_id=run_id)
            h_update(conn, run_id, now, status=RunStatus.ACTIVE.value, error="", error_type="")
            f.append(
                conn,
                [phase_event(h.phase, h.phase, status="active", outcome=h.mutation_outcome)],
                now,
            )

        self.db.run(tx)


def commit_in(
    conn: Connection, lease: Lease, run_id: str, spec: CommitSpec, now: datetime
) -> str | None:
    """→ committed, in the caller's transaction: events consumed, publishes and inputs written,
    state saved, the workflow's next run started. Returns that next run's id, if any."""
    wf = lock_workflow(conn, _workflow_of(conn, run_id))
    f, h = fence_run(conn, lease)
    require_status(h)
    path = path_between(
        h.handler_type,
        h.phase,
        Phase.COMMITTED,
        reservations=reserved_count(h),
        outcome=h.mutation_outcome,
        run_id=run_id,
    )
    events: list[NewEvent] = []
    registered = insert_inputs_in(conn, h.workflow, spec.inputs, run_id, now)
    if registered:
        events.append(NewEvent(EventKind.INPUT_REGISTERED, ids_payload(registered)))
    publishes = spec.publishes
    if publishes and spec.inherit_caused_by:
        reservations = [Reservation.model_validate(r) for r in loads(h.reservations) or []]
        inherited = tuple(caused_by_union_in(conn, h.workflow, reservations))
        publishes = [Publish(p.topic, p.message_id, p.payload, inherited) for p in publishes]
    if publishes:
        report = publish_in(conn, h.workflow, spec_of(wf), publishes, now, run_id=run_id)
        events.append(
            NewEvent(
                EventKind.TOPIC_EVENT_PUBLISHED,
                {
                    "topics": sorted({p.topic for p in publishes}),
                    "created": len(report.created),
                    "updated": len(report.updated),
                    "message_ids": [p.message_id for p in publishes][:100],
                },
            )
        )
    if h.handler_type == HandlerType.CONSUMER.value:
        consumed = consume_in(conn, run_id, now)
        if consumed:
            events.append(NewEvent(EventKind.TOPIC_EVENTS_CONSUMED, ids_payload(consumed)))
    state_values: dict[str, Any] = {"last_run_id": run_id, "updated_at": now}
    if not spec.keep_state:
        state_values["state"] = dumps(spec.output_state, what="handler state")
    if spec.clear_dirty:
        state_values["dirty"] = False
    if spec.next_run_at is not None:
        state_values["next_run_at"] = spec.next_run_at
    update_where(
        conn,
        wf_handler_state,
        {"workflow": h.workflow, "handler": h.handler},
        **state_values,
    )
    h_update(
        conn,
        run_id,
        now,
        phase=Phase.COMMITTED.value,
        status=RunStatus.COMMITTED.value,
        output_state=dumps(spec.output_state, what="handler state"),
        ended_at=now,
    )
    wf_values: dict[str, Any] = {
        "transient_failures": 0,
        "maintenance_fix_count": 0,
        "retry_at": None,
        "updated_at": now,
    }
    if wf.active_run_id == run_id:
        wf_values["active_run_id"] = None
    if wf.error_run_id == run_id and wf.error_kind == RECONCILING:
        wf_values.update(error="", error_kind="", error_run_id=None)
    update_where(conn, wf_workflows, {"name": wf.name}, **wf_values)
    events.append(phase_event(h.phase, Phase.COMMITTED.value, path=[p.value for p in path]))
    f.append(conn, events, now)
    # the workflow's row stays locked by this transaction: what it holds now is known
    return start_next_in(conn, wf.name, now, locked=wf._replace(**wf_values))


def _workflow_of(conn: Connection, run_id: str) -> str:
    return workflow_of(conn, run_id)


_TERMINAL = [s.value for s in TERMINAL_RUN_STATES]
_OPEN_LEDGER = [MutationStatus.IN_FLIGHT.value, MutationStatus.NEEDS_RECONCILE.value]
_OPEN_RUN = [RunStatus.ACTIVE.value, RunStatus.PAUSED_RECONCILIATION.value]


def settle_ended_in(conn: Connection, run_id: str, now: datetime) -> str:
    """Close the open handler run ``run_id`` whose core run ended (canceled by hand, failed
    outside the host); a write in doubt waits for a person. Returns what it became."""
    h = handler_row(conn, run_id, lock=False)
    wf = lock_workflow(conn, h.workflow)
    h = handler_row(conn, run_id)
    core = conn.execute(select(runs.c.state).where(runs.c.run_id == run_id)).scalar()
    if core not in _TERMINAL:
        return "not ended"
    m = conn.execute(
        select(wf_mutations).where(wf_mutations.c.handler_run_id == run_id).with_for_update()
    ).first()
    if m is not None and m.status in _OPEN_LEDGER:
        check_mutation(m.status, MutationStatus.INDETERMINATE)
        why = f"its run ended ({core}) while the outcome was unknown"
        conn.execute(
            wf_mutations.update()
            .where(wf_mutations.c.mutation_id == m.mutation_id)
            .values(status=MutationStatus.INDETERMINATE.value, error=why, updated_at=now)
        )
        conn.execute(
            wf_handler_runs.update()
            .where(wf_handler_runs.c.run_id == run_id)
            .values(status=RunStatus.PAUSED_RECONCILIATION.value, error=why, updated_at=now)
        )
        conn.execute(
            wf_workflows.update()
            .where(wf_workflows.c.name == wf.name)
            .values(
                error="the outcome of a mutation is unknown; a person must decide",
                error_kind="reconciliation",
                error_run_id=run_id,
                updated_at=now,
            )
        )
        event = NewEvent(
            EventKind.MUTATION_INDETERMINATE, {"mutation_id": m.mutation_id, "why": why}
        )
        append_to(conn, run_id, [event], now)
        return "indeterminate"
    status = RunStatus.CANCELED if core == RunState.CANCELED.value else RunStatus.CRASHED
    ending = Ending(
        status, Phase(h.phase), error=f"its core run ended {core}", error_type="RunEnded"
    )
    end_run_in(conn, wf, h, ending, now, lambda evs: append_to(conn, run_id, evs, now))
    return status.value


def _is_open(conn: Connection, run_id: str, status: str) -> bool:
    """True if a handler run in ``status`` still holds its workflow or a write in doubt."""
    if status not in _OPEN_RUN:
        return False
    if status == RunStatus.ACTIVE.value:
        return True
    open_write = conn.execute(
        select(wf_mutations.c.mutation_id).where(
            wf_mutations.c.handler_run_id == run_id, wf_mutations.c.status.in_(_OPEN_LEDGER)
        )
    ).first()
    return open_write is not None


def handler_run_ended(conn: Connection, end: RunEnd) -> None:
    """The run-end hook of handler runs: a core run that ended other than by the host's own
    commit (a cancel by hand, a failure outside the host) closes its handler run in the same
    transaction, and a failed one without a ``state_reason`` gets its handler's status as one.
    A success needs nothing: the host commits the handler run in the transaction of the end."""
    if end.state == RunState.SUCCEEDED:
        return
    found = conn.execute(
        select(wf_handler_runs.c.status).where(wf_handler_runs.c.run_id == end.run_id)
    ).scalar()
    if found is None:
        return
    if _is_open(conn, end.run_id, str(found)):
        settle_ended_in(conn, end.run_id, end.now)
    if end.state == RunState.FAILED and end.reason is None:
        status = select(wf_handler_runs.c.status).where(wf_handler_runs.c.run_id == end.run_id)
        conn.execute(
            runs.update()
            .where(runs.c.run_id == end.run_id)
            .values(state_reason=status.scalar_subquery())
        )


on_run_end(handler_run_ended, kind=RunKind.PRODUCER)
on_run_end(handler_run_ended, kind=RunKind.CONSUMER)

__all__ = ["CommitSpec", "HandlerRunOps", "commit_in", "settle_ended_in"]
