"""The op run's run-end hook: its finalization, queued durably in the transaction that ends it.

Finalizing an op run (its acceptance results, evidence pattern, stop rules and failure path:
``runwright.execmodel.finalize``) needs the operator's code and the project's settings, so it
cannot run inside the store. Its end instead inserts a small system run of the job
``FINALIZE_JOB`` (a transactional outbox): the run exists if and only if the op run ended, any
worker claims it like any run, and it calls the idempotent ``finalize``. A worker killed after
the end leaves the run pending (or leased, and taken over); nothing polls for ended op runs.
"""

from __future__ import annotations

from sqlalchemy import Connection

from runwright.domain import job_names
from runwright.domain.runs import Origin, RunKind, TriggerType
from runwright.store.core.records import NewRun
from runwright.store.core.run_end import RunEnd, on_run_end
from runwright.store.core.run_queries import insert_runs, run_with_key

#: The job of an op run (``runwright.execmodel.job``).
OP_RUN_JOB = job_names.OPERATOR
#: The system job that finalizes one ended op run, and the module that registers it.
FINALIZE_JOB = job_names.FINALIZE_OP_RUN
FINALIZE_MODULE = "runwright.execmodel.finalize"


def finalize_key(op_run_id: str) -> str:
    """The idempotency key of the run that finalizes ``op_run_id`` (one per op run)."""
    return f"{FINALIZE_JOB}:{op_run_id}"


def find_finalize_run(conn: Connection, project_id: str, op_run_id: str) -> str | None:
    """The id of the run that finalizes ``op_run_id``, if its end queued one."""
    return run_with_key(conn, project_id, finalize_key(op_run_id))


def enqueue_finalize(conn: Connection, end: RunEnd) -> None:
    """Queue the finalization of the op run that just ended (once, whatever happens)."""
    if find_finalize_run(conn, end.project_id, end.run_id) is not None:
        return
    spec = NewRun(
        job_name=FINALIZE_JOB,
        job_module=FINALIZE_MODULE,
        project_id=end.project_id,
        kwargs={"op_run_id": end.run_id},
        kind=RunKind.JOB,
        origin=Origin(
            trigger_type=TriggerType.OTHER,
            trigger_ref=f"op_run_ended:{end.run_id}",
            requested_by="runwright",
        ),
        idempotency_key=finalize_key(end.run_id),
    )
    insert_runs(conn, [spec], end.now)


on_run_end(enqueue_finalize, job=OP_RUN_JOB)
