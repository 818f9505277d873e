"""The mutation ledger under the run's lease: the row before the call, then its outcome.

``start_mutation`` commits the ``in_flight`` row (and the phase ``mutating``) before the
external call is made; ``mutation_applied`` commits the result (phase ``mutated``) before
``next`` runs, so an applied write is never made again; an unknown outcome pauses the run for
reconciliation; a certain failure releases the events and ends the run.

A write that was once in doubt and then settled as not made (by reconcile, or by a person
saying it did not happen) hands its idempotency key on: the next call of the same tool method
by the same handler for the same events sends that key again, even if its parameters changed
(a corrected payload), so a system that honours keys applies at most one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

import runwright.store.workflows.statements as st
from runwright.domain.events import EventKind
from runwright.domain.ids import new_id
from runwright.domain.workflows.models import Mutation
from runwright.domain.workflows.mutations import (
    MutationStatus,
    ResolvedBy,
    check_mutation,
    event_set,
)
from runwright.domain.workflows.phases import (
    MutationOutcome,
    Phase,
    RunStatus,
    check_phase,
    check_status,
)
from runwright.errors import Conflict
from runwright.store.core.chain import NewEvent
from runwright.store.core.records import Lease
from runwright.store.database import Database
from runwright.store.schema.workflows import wf_mutations, wf_workflows
from runwright.store.types import dumps, loads
from runwright.store.workflows.common import (
    RECONCILING,
    clear_reconciling,
    fence_run,
    h_update,
    lock_workflow,
    phase_event,
    require_status,
    reserved_count,
    update_where,
    workflow_of,
)
from runwright.store.workflows.ending import Ended, Ending, end_run_in
from runwright.store.workflows.events import reserved_ok_in

#: How many earlier settled-as-not-made writes of a handler are searched for a key to keep.
KEPT_KEY_SEARCH = st.KEPT_KEY_SEARCH


def _events_of(reservations: Any) -> frozenset[str]:
    return event_set((r.get("topic", ""), r.get("ids", [])) for r in loads(reservations) or [])


def kept_key_in(conn: Connection, h: Any, namespace: str, method: str) -> tuple[str, str] | None:
    """(mutation id, key) of the newest earlier write by this handler run's handler, of this
    tool method, for exactly the events it reserved, that was in doubt and then settled as
    not made; None when there is none."""
    mine = _events_of(h.reservations)
    if not mine:
        return None
    rows = st.EARLIER_IN_DOUBT.execute(
        conn,
        {"workflow": h.workflow, "handler": h.handler, "namespace": namespace, "method": method},
    ).all()
    for row in rows:
        if _events_of(row.reservations) == mine:
            return str(row.mutation_id), str(row.idempotency_key)
    return None


class RunAborted(Conflict):
    """The run must stop before its mutation: it was cancelled or one of its events skipped."""

    code = "run_aborted"


@dataclass(frozen=True, slots=True)
class NewMutation:
    """A mutation call about to be made."""

    tool_namespace: str
    tool_method: str
    params: dict[str, Any]
    idempotency_key: str
    ui_title: str = ""
    can_reconcile: bool = False


class MutationOps:
    """Ledger transitions, each one fenced transaction."""

    db: Database

    def start_mutation(self, lease: Lease, run_id: str, m: NewMutation, now: datetime) -> Mutation:
        """prepared → mutating and the ledger row ``in_flight``, before the external call.

        Raises RunAborted if the run was cancelled or an event it reserved was skipped.
        """

        def tx(conn: Connection) -> tuple[str, str, str, str]:
            f, h = fence_run(conn, lease)
            require_status(h)
            reserved = reserved_count(h)
            if f.cancel_requested or not reserved_ok_in(conn, run_id, reserved):
                raise RunAborted(
                    f"run {run_id} stops before its mutation: cancelled or an event was skipped",
                    run_id=run_id,
                )
            check_phase(
                h.handler_type, h.phase, Phase.MUTATING, reservations=reserved, run_id=run_id
            )
            mutation_id = new_id()
            kept = kept_key_in(conn, h, m.tool_namespace, m.tool_method)
            key = kept[1] if kept else m.idempotency_key
            st.INSERT_MUTATION.execute(
                conn,
                {
                    "mutation_id": mutation_id,
                    "handler_run_id": run_id,
                    "workflow": h.workflow,
                    "handler": h.handler,
                    "tool_namespace": m.tool_namespace,
                    "tool_method": m.tool_method,
                    "params": dumps(m.params, what="mutation parameters"),
                    "idempotency_key": key,
                    "status": MutationStatus.IN_FLIGHT.value,
                    "result": None,
                    "error": "",
                    "error_type": "",
                    "reconcile_attempts": 0,
                    "ui_title": m.ui_title,
                    "can_reconcile": m.can_reconcile,
                    "created_at": now,
                    "updated_at": now,
                },
            )
            h_update(conn, run_id, now, phase=Phase.MUTATING.value)
            started: dict[str, Any] = {
                "mutation_id": mutation_id,
                "tool": f"{m.tool_namespace}.{m.tool_method}",
                "idempotency_key": key,
            }
            if kept:
                started["key_kept_from"] = kept[0]
            f.append(
                conn,
                [
                    phase_event(h.phase, Phase.MUTATING.value),
                    NewEvent(EventKind.MUTATION_STARTED, started),
                ],
                now,
            )
            return mutation_id, h.workflow, h.handler, key

        mutation_id, workflow, handler, key = self.db.run(tx)
        return Mutation.model_construct(
            mutation_id=mutation_id,
            handler_run_id=run_id,
            workflow=workflow,
            handler=handler,
            tool_namespace=m.tool_namespace,
            tool_method=m.tool_method,
            params=m.params,
            idempotency_key=key,
            status=MutationStatus.IN_FLIGHT,
            result=None,
            error="",
            error_type="",
            reconcile_attempts=0,
            next_reconcile_at=None,
            resolved_by=None,
            resolved_at=None,
            ui_title=m.ui_title,
            can_reconcile=m.can_reconcile,
            created_at=now,
            updated_at=now,
        )

    def _lock_mutation(self, conn: Connection, mutation_id: str) -> Any:
        row = st.LOCK_MUTATION.execute(conn, {"mutation_id": mutation_id}).first()
        if row is None:
            raise Conflict(f"no mutation {mutation_id}", mutation_id=mutation_id)
        return row

    def mutation_applied(
        self,
        lease: Lease,
        run_id: str,
        mutation_id: str,
        result: Any,
        now: datetime,
        *,
        reconciled: bool = False,
        attempts: int | None = None,
        extra: list[NewEvent] | None = None,
    ) -> None:
        """The mutation took effect: ledger ``applied``, run mutating → mutated (success).
        ``attempts``: the reconcile attempts made, when reconcile found it."""

        def tx(conn: Connection) -> None:
            wf = lock_workflow(conn, workflow_of(conn, run_id)) if reconciled else None
            f, h = fence_run(conn, lease)
            m = self._lock_mutation(conn, mutation_id)
            check_mutation(m.status, MutationStatus.APPLIED, mutation_id=mutation_id)
            require_status(h, RunStatus.ACTIVE, RunStatus.PAUSED_RECONCILIATION)
            check_phase(h.handler_type, h.phase, Phase.MUTATED, run_id=run_id)
            update_where(
                conn,
                wf_mutations,
                {"mutation_id": mutation_id},
                status=MutationStatus.APPLIED.value,
                result=dumps(result, what="mutation result"),
                error="",
                error_type="",
                next_reconcile_at=None,
                resolved_by=ResolvedBy.RECONCILIATION.value if reconciled else None,
                resolved_at=now if reconciled else None,
                updated_at=now,
                reconcile_attempts=m.reconcile_attempts if attempts is None else attempts,
            )
            h_update(
                conn,
                run_id,
                now,
                phase=Phase.MUTATED.value,
                status=RunStatus.ACTIVE.value,
                mutation_outcome=MutationOutcome.SUCCESS.value,
                error="",
                error_type="",
            )
            if wf is not None:
                clear_reconciling(conn, wf, run_id, now)
            events = list(extra or [])
            events.append(NewEvent(EventKind.MUTATION_APPLIED, {"mutation_id": mutation_id}))
            if reconciled:
                events.append(
                    NewEvent(
                        EventKind.RECONCILE_RESOLVED,
                        {"mutation_id": mutation_id, "verdict": "applied"},
                    )
                )
            events.append(phase_event(h.phase, Phase.MUTATED.value, outcome="success"))
            f.append(conn, events, now)

        self.db.run(tx)

    def mutation_uncertain(
        self,
        lease: Lease,
        run_id: str,
        mutation_id: str,
        *,
        status: MutationStatus,
        error: str,
        error_type: str,
        attempts: int,
        next_reconcile_at: datetime | None,
        now: datetime,
        extra: list[NewEvent] | None = None,
    ) -> None:
        """The outcome is unknown: ledger needs_reconcile (or indeterminate), run paused."""

        def tx(conn: Connection) -> None:
            wf = lock_workflow(conn, workflow_of(conn, run_id))
            f, h = fence_run(conn, lease)
            m = self._lock_mutation(conn, mutation_id)
            check_mutation(m.status, status, mutation_id=mutation_id)
            if h.status != RunStatus.PAUSED_RECONCILIATION.value:
                check_status(h.status, RunStatus.PAUSED_RECONCILIATION, run_id=run_id)
            conn.execute(
                wf_mutations.update()
                .where(wf_mutations.c.mutation_id == mutation_id)
                .values(
                    status=status.value,
                    error=error,
                    error_type=error_type,
                    reconcile_attempts=attempts,
                    next_reconcile_at=next_reconcile_at,
                    updated_at=now,
                )
            )
            h_update(
                conn,
                run_id,
                now,
                status=RunStatus.PAUSED_RECONCILIATION.value,
                error=error,
                error_type=error_type,
            )
            if status is MutationStatus.INDETERMINATE:
                message = (
                    "the outcome of a mutation is unknown; a person must decide (runwright inbox)"
                )
            else:
                message = f"the outcome of a mutation is being reconciled (attempt {attempts})"
            conn.execute(
                wf_workflows.update()
                .where(wf_workflows.c.name == wf.name)
                .values(error=message, error_kind=RECONCILING, error_run_id=run_id, updated_at=now)
            )
            kind = (
                EventKind.MUTATION_INDETERMINATE
                if status is MutationStatus.INDETERMINATE
                else EventKind.MUTATION_NEEDS_RECONCILE
            )
            events = list(extra or [])
            events.append(
                NewEvent(
                    kind,
                    {
                        "mutation_id": mutation_id,
                        "error_type": error_type,
                        "error": error[:500],
                        "reconcile_attempts": attempts,
                        "next_reconcile_at": next_reconcile_at.isoformat()
                        if next_reconcile_at
                        else None,
                    },
                )
            )
            f.append(conn, events, now)

        self.db.run(tx)

    def mutation_failed(
        self,
        lease: Lease,
        run_id: str,
        mutation_id: str,
        ending: Ending,
        now: datetime,
        *,
        reconciled: bool = False,
        attempts: int | None = None,
        extra: list[NewEvent] | None = None,
    ) -> Ended:
        """The write certainly did not happen: ledger ``failed``, events released, run ended.
        ``attempts``: the reconcile attempts made, when reconcile found it."""

        def tx(conn: Connection) -> Ended:
            wf = lock_workflow(conn, workflow_of(conn, run_id))
            f, h = fence_run(conn, lease)
            m = self._lock_mutation(conn, mutation_id)
            check_mutation(m.status, MutationStatus.FAILED, mutation_id=mutation_id)
            check_phase(h.handler_type, h.phase, Phase.MUTATED, run_id=run_id)
            conn.execute(
                wf_mutations.update()
                .where(wf_mutations.c.mutation_id == mutation_id)
                .values(
                    status=MutationStatus.FAILED.value,
                    error=ending.error,
                    error_type=ending.error_type,
                    next_reconcile_at=None,
                    resolved_by=ResolvedBy.RECONCILIATION.value if reconciled else None,
                    resolved_at=now if reconciled else None,
                    updated_at=now,
                    reconcile_attempts=m.reconcile_attempts if attempts is None else attempts,
                )
            )
            clear_reconciling(conn, wf, run_id, now)
            wf = lock_workflow(conn, wf.name)
            events = list(extra or [])
            events.append(
                NewEvent(
                    EventKind.MUTATION_FAILED,
                    {"mutation_id": mutation_id, "error": ending.error[:500]},
                )
            )
            if reconciled:
                events.append(
                    NewEvent(
                        EventKind.RECONCILE_RESOLVED,
                        {"mutation_id": mutation_id, "verdict": "failed"},
                    )
                )
            f.append(conn, events, now)
            done = Ending(
                status=ending.status,
                phase=Phase.MUTATED,
                error=ending.error,
                error_type=ending.error_type,
                error_class=ending.error_class,
                outcome=MutationOutcome.FAILURE,
            )
            return end_run_in(conn, wf, h, done, now, lambda evs: f.append(conn, evs, now))

        return self.db.run(tx)
