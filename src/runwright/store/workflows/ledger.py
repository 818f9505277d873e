"""The mutation ledger seen by people: listing, deciding an indeterminate write, skipping.

Every decision is one transaction that also records who took it (a HUMAN_ACTION event on the
run) and wakes or ends the run that waited on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from runwright.domain.events import EventKind
from runwright.domain.states import TERMINAL_RUN_STATES, RunState
from runwright.domain.workflows.models import HandlerRun, Input, Mutation, TopicEvent
from runwright.domain.workflows.mutations import HumanAction, MutationStatus, resolve_action
from runwright.domain.workflows.phases import MutationOutcome, Phase, RunStatus
from runwright.domain.workflows.topics import EventStatus
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import NewEvent
from runwright.store.core.lifecycle import cancel, notify_ready, terminate
from runwright.store.database import Database
from runwright.store.schema import runs
from runwright.store.schema.workflows import (
    wf_event_inputs,
    wf_events,
    wf_handler_runs,
    wf_inputs,
    wf_mutations,
    wf_workflows,
)
from runwright.store.workflows.common import append_to, handler_row, lock_workflow
from runwright.store.workflows.ending import Ending, end_run_in
from runwright.store.workflows.events import skip_reserved_in
from runwright.store.workflows.inputs import inputs_from_rows
from runwright.store.workflows.rows import events_from_rows, handler_run_from_row, mutation_from_row

_TERMINAL = {s.value for s in TERMINAL_RUN_STATES}
_PRE_MUTATION = {Phase.PENDING.value, Phase.PREPARING.value, Phase.PREPARED.value}


def _core_state(conn: Connection, run_id: str) -> str:
    return str(
        conn.execute(select(runs.c.state).where(runs.c.run_id == run_id).with_for_update()).scalar()
    )


def _clear_error(conn: Connection, name: str, run_id: str, now: datetime) -> Any:
    conn.execute(
        wf_workflows.update()
        .where(wf_workflows.c.name == name, wf_workflows.c.error_run_id == run_id)
        .values(error="", error_kind="", error_run_id=None, updated_at=now)
    )
    return lock_workflow(conn, name)


class LedgerOps:
    """Mutations, handler runs and the skip action."""

    db: Database

    def list_mutations(
        self, *, workflow: str | None = None, statuses: tuple[str, ...] = (), limit: int = 100
    ) -> list[Mutation]:
        """Ledger rows, newest first."""
        q = select(wf_mutations)
        if workflow:
            q = q.where(wf_mutations.c.workflow == workflow)
        if statuses:
            q = q.where(wf_mutations.c.status.in_(statuses))
        q = q.order_by(wf_mutations.c.mutation_id.desc()).limit(limit)
        return self.db.run(lambda c: [mutation_from_row(r) for r in c.execute(q)], write=False)

    def get_mutation(self, mutation_id: str) -> Mutation:
        """One ledger row, or NotFound."""
        q = select(wf_mutations).where(wf_mutations.c.mutation_id == mutation_id)
        row = self.db.run(lambda c: c.execute(q).first(), write=False)
        if row is None:
            raise NotFound(
                f"no mutation {mutation_id}",
                hint="list them with `runwright inbox` or `runwright mutation list`",
                mutation_id=mutation_id,
            )
        return mutation_from_row(row)

    def list_handler_runs(
        self, *, workflow: str | None = None, statuses: tuple[str, ...] = (), limit: int = 50
    ) -> list[HandlerRun]:
        """Handler runs, newest first."""
        q = select(wf_handler_runs)
        if workflow:
            q = q.where(wf_handler_runs.c.workflow == workflow)
        if statuses:
            q = q.where(wf_handler_runs.c.status.in_(statuses))
        q = q.order_by(wf_handler_runs.c.run_id.desc()).limit(limit)
        return self.db.run(lambda c: [handler_run_from_row(r) for r in c.execute(q)], write=False)

    # ---- deciding an indeterminate mutation -------------------------------------------
    def resolve_mutation(
        self, mutation_id: str, action: str, now: datetime, *, by: str
    ) -> Mutation:
        """Try again, it didn't happen, or skip (only an ``indeterminate`` mutation)."""

        def tx(conn: Connection) -> None:
            name = conn.execute(
                select(wf_mutations.c.workflow).where(wf_mutations.c.mutation_id == mutation_id)
            ).scalar()
            if name is None:
                raise NotFound(
                    f"no mutation {mutation_id}",
                    hint="list them with `runwright inbox`",
                    mutation_id=mutation_id,
                )
            wf = lock_workflow(conn, str(name))
            row = conn.execute(
                select(wf_mutations)
                .where(wf_mutations.c.mutation_id == mutation_id)
                .with_for_update()
            ).one()
            res = resolve_action(
                row.status, action, can_reconcile=bool(row.can_reconcile), mutation_id=mutation_id
            )
            h = handler_row(conn, row.handler_run_id)
            run_id = h.run_id
            core = _core_state(conn, run_id)
            act = HumanAction(action)
            human = NewEvent(
                EventKind.HUMAN_ACTION,
                {"action": f"mutation:{act.value}", "mutation_id": mutation_id, "by": by},
            )
            values: dict[str, Any] = {"status": res.status.value, "updated_at": now}
            if res.resolved_by is not None:
                values.update(resolved_by=res.resolved_by.value, resolved_at=now)
            if act is HumanAction.TRY_AGAIN:
                if core != RunState.WAITING.value:
                    raise Conflict(
                        f"run {run_id} is {core}; nothing can reconcile for it any more",
                        hint="choose --did-not-happen or --skip",
                        mutation_id=mutation_id,
                    )
                values.update(reconcile_attempts=0, next_reconcile_at=now)
                conn.execute(
                    wf_mutations.update()
                    .where(wf_mutations.c.mutation_id == mutation_id)
                    .values(**values)
                )
                conn.execute(
                    wf_workflows.update()
                    .where(wf_workflows.c.name == wf.name)
                    .values(error=f"reconciling again (asked by {by})", updated_at=now)
                )
                append_to(conn, run_id, [human], now, available_at=now, wake_at=now)
                notify_ready(conn)
                return
            values["error"] = (
                f"{by}: it did not happen" if act is HumanAction.DID_NOT_HAPPEN else f"{by}: skip"
            )
            conn.execute(
                wf_mutations.update()
                .where(wf_mutations.c.mutation_id == mutation_id)
                .values(**values)
            )
            wf = _clear_error(conn, wf.name, run_id, now)
            if act is HumanAction.DID_NOT_HAPPEN:
                append_to(conn, run_id, [human], now)
                ending = Ending(
                    RunStatus.RELEASED,
                    Phase.MUTATED,
                    error=f"{by} said the write did not happen",
                    error_type="UserAssertFailed",
                    outcome=MutationOutcome.FAILURE,
                )
                end_run_in(conn, wf, h, ending, now, lambda evs: append_to(conn, run_id, evs, now))
                if core == RunState.WAITING.value:
                    terminate(conn, run_id, RunState.FAILED, RunStatus.RELEASED.value, now, by=by)
                return
            skipped = skip_reserved_in(conn, run_id, now)
            conn.execute(
                wf_events.update().where(wf_events.c.event_id.in_(skipped)).values(skipped_by=by)
            )
            conn.execute(
                wf_handler_runs.update()
                .where(wf_handler_runs.c.run_id == run_id)
                .values(
                    phase=Phase.MUTATED.value,
                    mutation_outcome=MutationOutcome.SKIPPED.value,
                    updated_at=now,
                )
            )
            events = [
                human,
                NewEvent(EventKind.TOPIC_EVENT_SKIPPED, {"count": len(skipped), "by": by}),
            ]
            if core == RunState.WAITING.value:
                append_to(conn, run_id, events, now, available_at=now, wake_at=now)
                notify_ready(conn)
                return
            append_to(conn, run_id, events, now)
            h = handler_row(conn, run_id)
            ending = Ending(
                RunStatus.CANCELED, Phase.MUTATED, error="its run ended; next runs in a retry"
            )
            end_run_in(conn, wf, h, ending, now, lambda evs: append_to(conn, run_id, evs, now))

        self.db.run(tx)
        return self.get_mutation(mutation_id)

    # ---- skip -------------------------------------------------------------------------
    def _skip_one(
        self, conn: Connection, ev: Row[Any], now: datetime, by: str, *, strict: bool
    ) -> bool:
        """Skip one event row (locked); False (or Conflict if ``strict``) when it cannot be."""
        status = EventStatus(ev.status)
        if status is EventStatus.PENDING:
            conn.execute(
                wf_events.update()
                .where(wf_events.c.event_id == ev.event_id)
                .values(status=EventStatus.SKIPPED.value, skipped_by=by, updated_at=now)
            )
            if ev.created_by_run_id:
                append_to(
                    conn,
                    ev.created_by_run_id,
                    [NewEvent(EventKind.TOPIC_EVENT_SKIPPED, {"event_id": ev.event_id, "by": by})],
                    now,
                )
            return True
        if status is EventStatus.RESERVED:
            h = handler_row(conn, ev.reserved_by_run_id, lock=False)
            if h.status == RunStatus.ACTIVE.value and h.phase in _PRE_MUTATION:
                if _core_state(conn, h.run_id) not in _TERMINAL:
                    cancel(conn, h.run_id, now, by=by)
                again = handler_row(conn, h.run_id, lock=False)
                if again.phase in _PRE_MUTATION:
                    conn.execute(
                        wf_events.update()
                        .where(wf_events.c.event_id == ev.event_id)
                        .values(status=EventStatus.SKIPPED.value, skipped_by=by, updated_at=now)
                    )
                    append_to(
                        conn,
                        h.run_id,
                        [
                            NewEvent(
                                EventKind.TOPIC_EVENT_SKIPPED, {"event_id": ev.event_id, "by": by}
                            )
                        ],
                        now,
                    )
                    return True
            if not strict:
                return False
            raise Conflict(
                f"event {ev.event_id} is reserved by run {ev.reserved_by_run_id}, which has made "
                "(or may have made) its write; the event will be consumed",
                hint="a write in doubt is decided with `runwright mutation resolve ID --skip`",
                event_id=ev.event_id,
            )
        if not strict:
            return False
        raise Conflict(
            f"event {ev.event_id} is already {status}; skipping changes nothing",
            event_id=ev.event_id,
        )

    def skip_event(self, event_id: str, now: datetime, *, by: str) -> TopicEvent:
        """Skip an event: pending → skipped; reserved before the write → its run is cancelled."""

        def tx(conn: Connection) -> TopicEvent:
            first = conn.execute(
                select(wf_events.c.workflow).where(wf_events.c.event_id == event_id)
            ).scalar()
            if first is None:
                raise NotFound(f"no event {event_id}", event_id=event_id)
            lock_workflow(conn, str(first))
            ev = conn.execute(
                select(wf_events).where(wf_events.c.event_id == event_id).with_for_update()
            ).one()
            self._skip_one(conn, ev, now, by, strict=True)
            row = conn.execute(select(wf_events).where(wf_events.c.event_id == event_id)).one()
            return events_from_rows(conn, [row])[0]

        return self.db.run(tx)

    def skip_input(self, input_id: str, now: datetime, *, by: str) -> Input:
        """Skip an input: its open events are skipped where they still can be."""

        def tx(conn: Connection) -> Input:
            row = conn.execute(select(wf_inputs).where(wf_inputs.c.input_id == input_id)).first()
            if row is None:
                raise NotFound(f"no input {input_id}", input_id=input_id)
            lock_workflow(conn, row.workflow)
            ids = list(
                conn.execute(
                    select(wf_event_inputs.c.event_id).where(wf_event_inputs.c.input_id == input_id)
                ).scalars()
            )
            evs = conn.execute(
                select(wf_events)
                .where(wf_events.c.event_id.in_(ids))
                .order_by(wf_events.c.event_id)
                .with_for_update()
            ).all()
            for ev in evs:
                if ev.status in {EventStatus.PENDING.value, EventStatus.RESERVED.value}:
                    self._skip_one(conn, ev, now, by, strict=False)
            conn.execute(
                wf_inputs.update()
                .where(wf_inputs.c.input_id == input_id)
                .values(skipped_at=now, skipped_by=by)
            )
            fresh = conn.execute(select(wf_inputs).where(wf_inputs.c.input_id == input_id)).one()
            return inputs_from_rows(conn, [fresh])[0]

        return self.db.run(tx)


__all__ = ["LedgerOps", "MutationStatus"]
