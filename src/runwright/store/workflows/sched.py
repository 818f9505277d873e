"""The scheduler's store side: which workflow has work, and starting its next handler run.

One active run per workflow: ``active_run_id`` is set when a run is created and cleared when it
ends, under the workflow's row lock, so two workers can never start two runs of one workflow.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, exists, or_, select

import runwright.store.workflows.statements as st
from runwright.domain import job_names
from runwright.domain.ids import new_id
from runwright.domain.runs import Origin, RunKind, TriggerType
from runwright.domain.workflows.models import HandlerSpec
from runwright.domain.workflows.phases import (
    HandlerType,
    MutationOutcome,
    Phase,
    RunStatus,
    disposes_as_post_mutation,
)
from runwright.domain.workflows.rules import WorkflowStatus, is_runnable
from runwright.store.core.records import NewRun
from runwright.store.core.run_queries import insert_runs
from runwright.store.schema.workflows import wf_handler_state, wf_workflows
from runwright.store.types import UtcDateTime, dumps
from runwright.store.workflows.common import handler_row, lock_workflow, update_where
from runwright.store.workflows.defs import spec_of
from runwright.store.workflows.events import take_over_in

log = logging.getLogger(__name__)

JOB_MODULE = "runwright.workflows.jobs"
PRODUCER_JOB = job_names.WORKFLOW_PRODUCER
CONSUMER_JOB = job_names.WORKFLOW_CONSUMER
REPAIR_JOB = "runwright.workflows.repair"
SCHEDULER = "runwright.scheduler"


def _due_query() -> Any:
    now = bindparam("now", type_=UtcDateTime())
    work = exists().where(
        wf_handler_state.c.workflow == wf_workflows.c.name,
        or_(
            wf_handler_state.c.dirty.is_(True),
            wf_handler_state.c.next_run_at <= now,
            wf_handler_state.c.wake_at <= now,
        ),
    )
    return (
        select(wf_workflows.c.name)
        .where(
            wf_workflows.c.status == WorkflowStatus.ACTIVE.value,
            wf_workflows.c.error == "",
            wf_workflows.c.maintenance.is_(False),
            wf_workflows.c.active_run_id.is_(None),
            or_(wf_workflows.c.retry_at.is_(None), wf_workflows.c.retry_at <= now),
            or_(wf_workflows.c.pending_retry_run_id.is_not(None), work),
        )
        .order_by(wf_workflows.c.updated_at)
    )


_DUE = _due_query()


def due_workflows(conn: Connection, now: datetime) -> list[str]:
    """Runnable workflows with no active run and something to do now."""
    return list(conn.execute(_DUE, {"now": now}).scalars())


def start_next_in(conn: Connection, name: str, now: datetime, *, locked: Any = None) -> str | None:
    """Start the workflow's next handler run if it may run and has work; return its id.

    Order: a pending retry first, then the producer due longest ago, then the consumer that
    has waited longest among those dirty (a new event arrived) or whose ``wake_at`` is due.
    ``locked``: the workflow's row as this transaction already locked and changed it (saves
    reading it again).
    """
    wf = locked if locked is not None else lock_workflow(conn, name)
    if not is_runnable(wf.status, wf.error, bool(wf.maintenance)) or wf.active_run_id:
        return None
    if wf.retry_at is not None and wf.retry_at > now:
        return None
    spec = spec_of(wf)
    if wf.pending_retry_run_id:
        old = handler_row(conn, wf.pending_retry_run_id, lock=False)
        handler = spec.handler(old.handler)
        if handler is not None:
            return _create(conn, wf, handler, now, retry_of=old)
        log.error(
            "workflow %s: pending retry %s names handler %r, which is no longer deployed",
            name,
            old.run_id,
            old.handler,
        )
        conn.execute(
            wf_workflows.update()
            .where(wf_workflows.c.name == name)
            .values(pending_retry_run_id=None)
        )
    params = {"name": name, "now": now}
    found = st.DUE_PRODUCER.execute(conn, params).first()
    if found is None:
        found = st.DUE_CONSUMER.execute(conn, params).first()
    chosen = None if found is None else found.handler
    if chosen is None:
        return None
    handler = spec.handler(chosen)
    if handler is None:  # state rows follow the spec at deploy; never expected
        return None
    return _create(conn, wf, handler, now, retry_of=None)


def _create(
    conn: Connection,
    wf: Row[Any],
    handler: HandlerSpec,
    now: datetime,
    *,
    retry_of: Row[Any] | None,
) -> str:
    run_id = new_id()
    row = st.HANDLER_STATE.execute(conn, {"workflow": wf.name, "handler": handler.name}).first()
    state = None if row is None else row.state
    producer = handler.type is HandlerType.PRODUCER
    phase = Phase.PENDING
    copied: dict[str, Any] = {
        "prepare_result": None,
        "mutation_outcome": MutationOutcome.NONE.value,
        "reservations": "[]",
        "input_state": state,
    }
    if (
        retry_of is not None
        and not producer
        and disposes_as_post_mutation(retry_of.phase, retry_of.mutation_outcome)
    ):
        phase = Phase.EMITTING
        copied = {
            "prepare_result": retry_of.prepare_result,
            "mutation_outcome": retry_of.mutation_outcome,
            "reservations": retry_of.reservations,
            "input_state": retry_of.input_state,
        }
    insert_runs(
        conn,
        [
            NewRun(
                run_id=run_id,
                job_name=PRODUCER_JOB if producer else CONSUMER_JOB,
                job_module=JOB_MODULE,
                args=[wf.name, handler.name],
                project_id=wf.project_id,
                kind=RunKind.PRODUCER if producer else RunKind.CONSUMER,
                origin=Origin(
                    trigger_type=TriggerType.SCHEDULED,
                    trigger_ref=f"{wf.name}/{handler.name}",
                    requested_by=SCHEDULER,
                ),
            )
        ],
        now,
    )
    st.INSERT_HANDLER_RUN.execute(
        conn,
        {
            "run_id": run_id,
            "workflow": wf.name,
            "handler": handler.name,
            "handler_type": handler.type.value,
            "phase": phase.value,
            "status": RunStatus.ACTIVE.value,
            "retry_of": retry_of.run_id if retry_of is not None else None,
            "output_state": None,
            "error": "",
            "error_type": "",
            "workflow_version": wf.version,
            "created_at": now,
            "updated_at": now,
            **copied,
        },
    )
    if phase is Phase.EMITTING and retry_of is not None:
        take_over_in(conn, retry_of.run_id, run_id, now)
    update_where(
        conn,
        wf_handler_state,
        {"workflow": wf.name, "handler": handler.name},
        last_run_id=run_id,
        last_started_at=now,
    )
    update_where(
        conn,
        wf_workflows,
        {"name": wf.name},
        active_run_id=run_id,
        pending_retry_run_id=None,
        updated_at=now,
    )
    return run_id


def enqueue_repair_in(conn: Connection, wf: Row[Any], failed_run_id: str, now: datetime) -> str:
    """Create the run that executes the workflow's repair command."""
    run_id = new_id()
    insert_runs(
        conn,
        [
            NewRun(
                run_id=run_id,
                job_name=REPAIR_JOB,
                job_module=JOB_MODULE,
                args=[wf.name, failed_run_id],
                project_id=wf.project_id,
                origin=Origin(
                    trigger_type=TriggerType.ERROR_PIPELINE,
                    trigger_ref=failed_run_id,
                    requested_by=SCHEDULER,
                ),
            )
        ],
        now,
    )
    conn.execute(
        wf_workflows.update().where(wf_workflows.c.name == wf.name).values(repair_run_id=run_id)
    )
    return run_id


def json_or_none(value: Any, what: str) -> str | None:
    """JSON text of a value (None stays NULL)."""
    return None if value is None else dumps(value, what=what)
