"""The core jobs behind workflows: one per handler kind, and the repair job.

A handler run is a core run of job ``runwright.workflows.producer`` or
``runwright.workflows.consumer`` (arguments: workflow, handler), so it gets the core's lease,
heartbeats, event log, evidence and takeover after a crash, and shows in ``runwright run list``.
"""

from __future__ import annotations

import logging
from typing import Any

from runwright.domain.runs import RunKind
from runwright.domain.states import StateReason
from runwright.domain.workflows.mutations import UNRESOLVED, MutationStatus
from runwright.domain.workflows.phases import ENDED_STATUSES, HandlerType, RunStatus
from runwright.domain.workflows.rules import ErrorClass
from runwright.engine.context import JobContext
from runwright.engine.registry import job
from runwright.engine.stepper import Suspended
from runwright.store.workflows import CONSUMER_JOB, PRODUCER_JOB, REPAIR_JOB, Ending, WorkflowStore
from runwright.workflows.errors import InternalError
from runwright.workflows.host import Host, replay_end
from runwright.workflows.loader import load_deployed
from runwright.workflows.outcomes import HandlerRunEnded
from runwright.workflows.repair import run_repair

log = logging.getLogger(__name__)


def store_of(jctx: JobContext) -> WorkflowStore:
    """The workflow store on the database the job's run lives in."""
    return WorkflowStore(jctx.store.db)


def run_handler(jctx: JobContext, workflow: str, handler: str) -> dict[str, Any]:
    """Execute (or recover) the handler run behind this core run."""
    ws = store_of(jctx)
    run, record = ws.run_context(jctx.run_id, workflow)
    if run.status in ENDED_STATUSES:
        return replay_end(ws, run)
    try:
        wf = load_deployed(record.ref, record.code_hash)
        found = wf.handlers.get(run.handler)
        if found is None:
            raise InternalError(f"handler {run.handler!r} is not in the deployed workflow")
    except Exception as exc:
        log.warning("workflow %s: cannot load %s: %s", workflow, record.ref, exc)
        return _cannot_load(jctx, ws, run.run_id, f"cannot load {record.ref}: {exc}")
    host = Host(jctx, ws, record, wf, found, run)
    if run.handler_type is HandlerType.PRODUCER:
        return host.run_producer()
    return host.run_consumer()


def _cannot_load(jctx: JobContext, ws: WorkflowStore, run_id: str, why: str) -> dict[str, Any]:
    """Without the code nothing can be reconciled: a write in doubt waits for a person."""
    run = ws.handler_run(run_id)
    mutation = ws.mutation_of(run_id)
    lease = jctx.lease
    now = jctx.now()
    if mutation is not None and mutation.status in UNRESOLVED:
        if mutation.status is not MutationStatus.INDETERMINATE:
            ws.mutation_uncertain(
                lease,
                run_id,
                mutation.mutation_id,
                status=MutationStatus.INDETERMINATE,
                error=why,
                error_type="CannotLoad",
                attempts=mutation.reconcile_attempts,
                next_reconcile_at=None,
                now=now,
            )
        raise Suspended(
            StateReason.PAUSED_RECONCILIATION, payload={"mutation_id": mutation.mutation_id}
        )
    ending = Ending(
        RunStatus.FAILED_INTERNAL,
        run.phase,
        error=why[:4000],
        error_type="CannotLoad",
        error_class=ErrorClass.INTERNAL,
    )
    ended = ws.end(lease, run_id, ending, now)
    raise HandlerRunEnded(RunStatus.FAILED_INTERNAL.value, ended.reason, why, run_id=run_id)


@job(name=PRODUCER_JOB, kind=RunKind.PRODUCER)
def producer(ctx: JobContext, workflow: str, handler: str) -> dict[str, Any]:
    """A producer run of a workflow."""
    return run_handler(ctx, workflow, handler)


@job(name=CONSUMER_JOB, kind=RunKind.CONSUMER)
def consumer(ctx: JobContext, workflow: str, handler: str) -> dict[str, Any]:
    """A consumer run of a workflow."""
    return run_handler(ctx, workflow, handler)


@job(name=REPAIR_JOB)
def repair(ctx: JobContext, workflow: str, failed_run_id: str) -> dict[str, Any]:
    """Run the workflow's repair command on a debug packet, then redeploy or escalate."""
    return run_repair(ctx, store_of(ctx), workflow, failed_run_id)
