"""Ending a handler run that did not commit: events disposed, workflow told, in one transaction.

Before its mutation (or after a failed one) a run releases its events to pending; after an
applied or skipped mutation it keeps them reserved and becomes the workflow's pending retry, so
the next run starts at ``emitting`` with the stored result and never repeats the write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, select

from runwright.domain.events import EventKind
from runwright.domain.states import StateReason
from runwright.domain.workflows.mutations import UNRESOLVED
from runwright.domain.workflows.phases import (
    HandlerType,
    MutationOutcome,
    Phase,
    RunStatus,
    check_status,
    disposes_as_post_mutation,
)
from runwright.domain.workflows.rules import ErrorClass, plan_failure
from runwright.errors import Conflict
from runwright.store.core.chain import NewEvent
from runwright.store.schema.workflows import (
    wf_handler_runs,
    wf_handler_state,
    wf_mutations,
    wf_workflows,
)
from runwright.store.workflows.common import ids_payload
from runwright.store.workflows.defs import spec_of
from runwright.store.workflows.events import release_in
from runwright.store.workflows.sched import enqueue_repair_in, start_next_in

Append = Callable[[list[NewEvent]], None]


@dataclass(frozen=True, slots=True)
class Ending:
    """How a run ends: its status, the error and its class, and where it stopped."""

    status: RunStatus
    phase: Phase
    error: str = ""
    error_type: str = ""
    error_class: ErrorClass | None = None
    outcome: MutationOutcome | None = None
    stack: str = ""


@dataclass(frozen=True, slots=True)
class Ended:
    """What ending the run did: the core ``state_reason`` and the next run started, if any."""

    reason: str
    next_run_id: str | None
    kept_reserved: bool


def end_run_in(
    conn: Connection,
    wf: Row[Any],
    h: Row[Any],
    ending: Ending,
    now: datetime,
    append: Append,
    *,
    start_next: bool = True,
) -> Ended:
    """End handler run ``h`` of workflow ``wf`` (both rows locked by the caller)."""
    status = check_status(h.status, ending.status, run_id=h.run_id)
    unresolved = conn.execute(
        select(wf_mutations.c.status).where(
            wf_mutations.c.handler_run_id == h.run_id,
            wf_mutations.c.status.in_([s.value for s in UNRESOLVED]),
        )
    ).scalar()
    if unresolved is not None:
        raise Conflict(
            f"run {h.run_id} cannot end while its mutation is {unresolved}",
            hint="the mutation must be reconciled or decided first",
            run_id=h.run_id,
        )
    outcome = ending.outcome if ending.outcome is not None else MutationOutcome(h.mutation_outcome)
    post = h.handler_type == HandlerType.CONSUMER.value and disposes_as_post_mutation(
        ending.phase, outcome
    )
    events: list[NewEvent] = []
    wf_values: dict[str, Any] = {"updated_at": now, "pending_retry_run_id": h.run_id}
    if wf.active_run_id == h.run_id:
        wf_values["active_run_id"] = None
    if post:
        events.append(
            NewEvent(EventKind.NOTE, {"message": "events stay reserved for a retry at emitting"})
        )
    else:
        released = release_in(conn, h.run_id, now)
        if released:
            events.append(NewEvent(EventKind.TOPIC_EVENTS_RELEASED, ids_payload(released)))
            conn.execute(
                wf_handler_state.update()
                .where(
                    wf_handler_state.c.workflow == wf.name, wf_handler_state.c.handler == h.handler
                )
                .values(dirty=True, updated_at=now)
            )
    reason = status.value
    if ending.error_class is not None:
        cls = (
            ErrorClass.TRANSIENT
            if ending.error_class is ErrorClass.UNCERTAIN
            else ending.error_class
        )
        plan = plan_failure(
            cls, transient_failures=wf.transient_failures, fix_count=wf.maintenance_fix_count
        )
        wf_values.update(
            transient_failures=plan.transient_failures, maintenance_fix_count=plan.fix_count
        )
        if plan.retry_after is not None:
            wf_values["retry_at"] = now + timedelta(seconds=plan.retry_after)
        if plan.error:
            wf_values.update(error=plan.error, error_kind=plan.error_kind, error_run_id=h.run_id)
            if plan.error_kind == "transient" and not post:
                wf_values["pending_retry_run_id"] = None
        if plan.escalate:
            reason = StateReason.ESCALATED
            wf_values["maintenance"] = False
            events.append(
                NewEvent(
                    EventKind.ESCALATION_RAISED,
                    {"workflow": wf.name, "reason": plan.error, "error": ending.error[:500]},
                )
            )
        if plan.maintenance:
            wf_values["maintenance"] = True
            events.append(
                NewEvent(
                    EventKind.MAINTENANCE_STARTED,
                    {
                        "workflow": wf.name,
                        "fix_attempt": plan.fix_count,
                        "error": ending.error[:500],
                    },
                )
            )
            if spec_of(wf).repair_command:
                enqueue_repair_in(conn, wf, h.run_id, now)
    events.append(
        NewEvent(
            EventKind.HANDLER_PHASE_CHANGED,
            {
                "from": h.phase,
                "to": ending.phase.value,
                "status": status.value,
                "error_type": ending.error_type,
                "error": ending.error[:500],
                **({"stack": ending.stack[-4000:]} if ending.stack else {}),
            },
        )
    )
    conn.execute(
        wf_handler_runs.update()
        .where(wf_handler_runs.c.run_id == h.run_id)
        .values(
            status=status.value,
            phase=ending.phase.value,
            mutation_outcome=outcome.value,
            error=ending.error,
            error_type=ending.error_type,
            ended_at=now,
            updated_at=now,
        )
    )
    conn.execute(wf_workflows.update().where(wf_workflows.c.name == wf.name).values(**wf_values))
    append(events)
    next_id = start_next_in(conn, wf.name, now) if start_next else None
    return Ended(reason=reason, next_run_id=next_id, kept_reserved=post)
