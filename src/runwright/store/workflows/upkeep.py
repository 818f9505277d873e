"""The scheduler's and the recovery's store operations, each one transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, exists, or_, select, update

from runwright.domain.events import EventKind
from runwright.domain.ids import new_id
from runwright.domain.runs import RunKind
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.domain.workflows.mutations import MutationStatus
from runwright.domain.workflows.phases import HandlerType, RunStatus
from runwright.domain.workflows.rules import WorkflowStatus
from runwright.domain.workflows.topics import EventStatus
from runwright.errors import ValidationError
from runwright.store.core.chain import NewEvent
from runwright.store.database import Database
from runwright.store.schema import runs
from runwright.store.schema.workflows import (
    wf_events,
    wf_handler_runs,
    wf_handler_state,
    wf_mutations,
    wf_workflows,
)
from runwright.store.workflows.common import append_to, lock_workflow
from runwright.store.workflows.defs import spec_of
from runwright.store.workflows.events import Publish, publish_in
from runwright.store.workflows.inputs import NewInput, find_input_in, insert_inputs_in
from runwright.store.workflows.runs import settle_ended_in
from runwright.store.workflows.sched import due_workflows, enqueue_repair_in, start_next_in

log = logging.getLogger(__name__)

_TERMINAL = [s.value for s in TERMINAL_RUN_STATES]
_OPEN_LEDGER = [MutationStatus.IN_FLIGHT.value, MutationStatus.NEEDS_RECONCILE.value]
_HANDLER_KINDS = [RunKind.PRODUCER.value, RunKind.CONSUMER.value]
_OPEN_RUN = [RunStatus.ACTIVE.value, RunStatus.PAUSED_RECONCILIATION.value]


def _anomalies_query() -> Any:
    return (
        select(wf_handler_runs.c.run_id)
        .select_from(wf_handler_runs.join(runs, runs.c.run_id == wf_handler_runs.c.run_id))
        .where(
            wf_handler_runs.c.status.in_(_OPEN_RUN),
            runs.c.state.in_(_TERMINAL),
            or_(
                wf_handler_runs.c.status == RunStatus.ACTIVE.value,
                exists().where(
                    wf_mutations.c.handler_run_id == wf_handler_runs.c.run_id,
                    wf_mutations.c.status.in_(_OPEN_LEDGER),
                ),
            ),
        )
    )


class UpkeepOps:
    """Scheduling, start-up recovery and the invariants the ticker keeps."""

    db: Database

    def due_workflows(self, now: datetime) -> list[str]:
        """Workflows that may start a run now (one read: the scheduler's every tick)."""
        return self.db.run(lambda c: due_workflows(c, now), write=False, single_statement=True)

    def start_next(self, name: str, now: datetime) -> str | None:
        """Start the workflow's next run if it has work; return its id."""
        return self.db.run(lambda c: start_next_in(c, name, now))

    def mark_consumers_dirty(self, now: datetime) -> int:
        """After a restart every consumer of an active workflow runs prepare once."""
        active = select(wf_workflows.c.name).where(
            wf_workflows.c.status == WorkflowStatus.ACTIVE.value
        )
        stmt = (
            update(wf_handler_state)
            .where(
                wf_handler_state.c.handler_type == HandlerType.CONSUMER.value,
                wf_handler_state.c.workflow.in_(active),
            )
            .values(dirty=True, updated_at=now)
        )
        return int(self.db.run(lambda c: c.execute(stmt).rowcount) or 0)

    def fill_missing_reasons(self) -> int:
        """Give failed core runs of handler runs that carry no ``state_reason`` their workflow
        status as one (start-up recovery)."""
        status = (
            select(wf_handler_runs.c.status)
            .where(wf_handler_runs.c.run_id == runs.c.run_id)
            .scalar_subquery()
        )
        stmt = (
            update(runs)
            .where(
                runs.c.state == RunState.FAILED.value,
                runs.c.state_reason.is_(None),
                runs.c.kind.in_(_HANDLER_KINDS),
                exists().where(wf_handler_runs.c.run_id == runs.c.run_id),
            )
            .values(state_reason=status)
        )
        return int(self.db.run(lambda c: c.execute(stmt).rowcount) or 0)

    def anomalies(self) -> list[str]:
        """Handler runs still open whose core run already ended (cancelled by hand, or failed
        outside the host): they must not hold their events or their workflow forever. A run's
        end settles its handler run (the run-end hook); expect none but from before it."""
        return list(
            self.db.run(lambda c: c.execute(_anomalies_query()).scalars().all(), write=False)
        )

    def settle_anomaly(self, run_id: str, now: datetime) -> str:
        """Close an open handler run whose core run ended; a write in doubt waits for a person.
        (A run's end does it through the handler runs' run-end hook; this is start-up recovery
        for runs that ended before that hook existed.)"""
        return self.db.run(lambda conn: settle_ended_in(conn, run_id, now))

    def orphaned_reservations(self) -> list[str]:
        """Reserved events whose run can no longer consume them (an invariant: expect none)."""
        live = select(wf_handler_runs.c.run_id).where(
            wf_handler_runs.c.status.in_(
                [RunStatus.ACTIVE.value, RunStatus.PAUSED_RECONCILIATION.value]
            )
        )
        retry = select(wf_workflows.c.pending_retry_run_id).where(
            wf_workflows.c.pending_retry_run_id.is_not(None)
        )
        q = select(wf_events.c.event_id).where(
            wf_events.c.status == EventStatus.RESERVED.value,
            wf_events.c.reserved_by_run_id.not_in(live),
            wf_events.c.reserved_by_run_id.not_in(retry),
        )
        return list(self.db.run(lambda c: c.execute(q).scalars().all(), write=False))

    def repairs_to_start(self, now: datetime) -> list[str]:
        """Workflows in maintenance with a repair command and no repair run: start one each."""

        def tx(conn: Connection) -> list[str]:
            rows = conn.execute(
                select(wf_workflows).where(
                    wf_workflows.c.maintenance.is_(True), wf_workflows.c.repair_run_id.is_(None)
                )
            ).all()
            started = []
            for row in rows:
                if spec_of(row).repair_command and row.pending_retry_run_id:
                    wf = lock_workflow(conn, row.name)
                    started.append(enqueue_repair_in(conn, wf, row.pending_retry_run_id, now))
            return started

        return self.db.run(tx)

    def finish_repair(self, name: str, now: datetime, *, ok: bool, note: str, run_id: str) -> None:
        """After a repair attempt: end maintenance (the redeploy did it) or escalate."""

        def tx(conn: Connection) -> None:
            wf = lock_workflow(conn, name)
            values: dict[str, Any] = {"repair_run_id": None, "updated_at": now}
            if not ok:
                values.update(
                    maintenance=False,
                    maintenance_fix_count=0,
                    error=f"the repair failed: {note}"[:2000],
                    error_kind="escalated",
                    error_run_id=wf.pending_retry_run_id,
                )
            conn.execute(wf_workflows.update().where(wf_workflows.c.name == name).values(**values))
            kind = EventKind.REPAIR_ATTEMPTED if ok else EventKind.ESCALATION_RAISED
            append_to(
                conn,
                run_id,
                [NewEvent(kind, {"workflow": name, "ok": ok, "note": note[:1000]})],
                now,
            )

        self.db.run(tx)

    def publish(
        self,
        workflow: str,
        topic: str,
        message_id: str,
        payload: Any,
        now: datetime,
        *,
        input_key: tuple[str, str, str, str] | None = None,
    ) -> str:
        """Publish from outside any run (a webhook, a test): ``input_key`` = (source, type,
        id, title) registers the input that caused it. Returns the event id."""

        def tx(conn: Connection) -> str:
            wf = lock_workflow(conn, workflow)
            spec = spec_of(wf)
            if topic not in spec.topics:
                raise ValidationError(
                    f"workflow {workflow!r} has no topic {topic!r}",
                    hint=f"its topics: {', '.join(spec.topics) or 'none'}",
                    field="topic",
                )
            caused: tuple[str, ...] = ()
            if input_key is not None:
                source, type_, ext, title = input_key
                input_id = find_input_in(conn, workflow, source, type_, ext)
                if input_id is None:
                    input_id = new_id()
                    insert_inputs_in(
                        conn, workflow, [NewInput(input_id, source, type_, ext, title)], None, now
                    )
                caused = (input_id,)
            publish_in(
                conn,
                workflow,
                spec,
                [Publish(topic, message_id, payload, caused)],
                now,
                run_id=None,
            )
            return str(
                conn.execute(
                    select(wf_events.c.event_id).where(
                        wf_events.c.workflow == workflow,
                        wf_events.c.topic == topic,
                        wf_events.c.message_id == message_id,
                    )
                ).scalar_one()
            )

        return self.db.run(tx)
