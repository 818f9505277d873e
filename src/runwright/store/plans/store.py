"""Persistence of plan runs: stages, phase delegations, gate results and escalations.

Every method is one transaction. Writes made by the steps of a plan run are idempotent (an
upsert keyed by what the step records), so a step re-run after a crash records nothing twice.
The run's event log gets the matching events in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from runwright.domain.events import EventKind
from runwright.domain.plan_records import (
    Acknowledgment,
    Escalation,
    EscalationAnswer,
    EscalationStatus,
    GateResult,
    PhaseDelegation,
    PhaseStatus,
    PlanRunRecord,
    PlanStatus,
)
from runwright.domain.states import RunState, StateReason
from runwright.errors import Conflict, NotFound
from runwright.store.core.chain import NewEvent, append_locked
from runwright.store.core.lifecycle import notify_ready
from runwright.store.database import Database
from runwright.store.schema import runs
from runwright.store.schema.plans import plan_escalations, plan_gates, plan_phases, plan_runs
from runwright.store.types import dumps, loads

#: What a PlanRunRecord is read from: every column but the spec (large, and read on its own by
#: ``spec_of`` where it is needed).
_RECORD_COLUMNS = [c for c in plan_runs.c if c.name != "spec"]


def _plan_record(row: Row[Any]) -> PlanRunRecord:
    ack = loads(row.acknowledgment)
    return PlanRunRecord(
        run_id=row.run_id,
        plan_id=row.plan_id,
        project_id=row.project_id,
        title=row.title,
        plan_path=row.plan_path,
        plan_sha256=row.plan_sha256,
        stage=row.stage,
        status=PlanStatus(row.status),
        acknowledgment=Acknowledgment.model_validate(ack) if ack else None,
        schedule=loads(row.schedule) or {},
        completion=loads(row.completion),
        completion_path=row.completion_path,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delegation(row: Row[Any]) -> PhaseDelegation:
    return PhaseDelegation.model_validate(
        {
            "run_id": row.run_id,
            "phase_id": row.phase_id,
            "round": row.round,
            "gate": row.gate,
            "stage": row.stage,
            "child_run_id": row.child_run_id,
            "status": row.status,
            "correction": loads(row.correction),
            "outcome": loads(row.outcome) or {},
            "started_at": row.started_at,
            "ended_at": row.ended_at,
        }
    )


class PlanStore:
    """Plan tables over one Database."""

    def __init__(self, db: Database):
        self.db = db

    # ---- plan runs ----------------------------------------------------------------------
    def open_plan_run(
        self,
        *,
        run_id: str,
        plan_id: str,
        project_id: str,
        title: str,
        plan_path: str,
        plan_sha256: str,
        spec: dict[str, Any],
        now: datetime,
    ) -> PlanRunRecord:
        """Record a plan run at intake (again after a crash: the first record stands)."""

        def tx(conn: Connection) -> None:
            found = conn.execute(select(plan_runs.c.run_id).where(plan_runs.c.run_id == run_id))
            if found.first() is not None:
                return
            conn.execute(
                plan_runs.insert().values(
                    run_id=run_id,
                    plan_id=plan_id,
                    project_id=project_id,
                    title=title,
                    plan_path=plan_path,
                    plan_sha256=plan_sha256,
                    spec=dumps(spec),
                    stage="intake",
                    status=PlanStatus.RUNNING.value,
                    schedule="{}",
                    created_at=now,
                    updated_at=now,
                )
            )

        self.db.run(tx)
        return self.get(run_id)

    def get(self, run_id: str) -> PlanRunRecord:
        """One plan run, or NotFound."""
        with self.db.transaction(write=False) as conn:
            row = conn.execute(select(*_RECORD_COLUMNS).where(plan_runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFound(
                f"no plan run {run_id}",
                hint="`runwright plan list` shows the plan runs",
                run_id=run_id,
            )
        return _plan_record(row)

    def spec_of(self, run_id: str) -> dict[str, Any]:
        """The plan spec a run executes (as recorded at intake, or after a re-check)."""
        with self.db.transaction(write=False) as conn:
            spec = conn.execute(
                select(plan_runs.c.spec).where(plan_runs.c.run_id == run_id)
            ).scalar_one_or_none()
        if spec is None:
            raise NotFound(f"no plan run {run_id}", run_id=run_id)
        result: dict[str, Any] = loads(spec)
        return result

    def runs(
        self, *, project_id: str | None = None, before: str | None = None, limit: int = 50
    ) -> list[PlanRunRecord]:
        """Plan runs, newest first (paged by run id)."""
        q = select(*_RECORD_COLUMNS).order_by(plan_runs.c.run_id.desc()).limit(limit)
        if project_id:
            q = q.where(plan_runs.c.project_id == project_id)
        if before:
            q = q.where(plan_runs.c.run_id < before)
        with self.db.transaction(write=False) as conn:
            return [_plan_record(r) for r in conn.execute(q)]

    def update(
        self,
        run_id: str,
        now: datetime,
        *,
        events: Sequence[NewEvent] = (),
        **values: Any,
    ) -> None:
        """Set columns of a plan run (stage, status, acknowledgment…) and log ``events``."""
        encoded = {
            k: (dumps(v) if k in {"acknowledgment", "schedule", "completion", "spec"} else v)
            for k, v in values.items()
        }

        def tx(conn: Connection) -> None:
            conn.execute(
                plan_runs.update()
                .where(plan_runs.c.run_id == run_id)
                .values(updated_at=now, **encoded)
            )
            if events:
                append_locked(conn, run_id, list(events), now)

        self.db.run(tx)

    def record_ack(self, run_id: str, ack: Acknowledgment, now: datetime) -> None:
        """Store the intake acknowledgment."""
        self.update(
            run_id,
            now,
            acknowledgment=ack.model_dump(mode="json"),
            events=[NewEvent(EventKind.NOTE, {"intake": ack.model_dump(mode="json")})],
        )

    def record_schedule(
        self, run_id: str, stage: str, schedule: dict[str, Any], now: datetime
    ) -> None:
        """Store a stage's batches and why phases were serialized."""

        def tx(conn: Connection) -> None:
            current = conn.execute(
                select(plan_runs.c.schedule).where(plan_runs.c.run_id == run_id)
            ).scalar_one()
            merged = {**(loads(current) or {}), stage: schedule}
            conn.execute(
                plan_runs.update()
                .where(plan_runs.c.run_id == run_id)
                .values(schedule=dumps(merged), stage=stage, updated_at=now)
            )
            append_locked(
                conn,
                run_id,
                [NewEvent(EventKind.STAGE_STARTED, {"stage": stage, **schedule})],
                now,
            )

        self.db.run(tx)

    # ---- phases -------------------------------------------------------------------------
    def record_phase(self, delegation: PhaseDelegation, now: datetime) -> None:
        """Insert or update one delegation of a phase."""
        values = {
            "gate": delegation.gate,
            "stage": delegation.stage,
            "child_run_id": delegation.child_run_id,
            "status": delegation.status.value,
            "correction": dumps(delegation.correction.model_dump(mode="json"))
            if delegation.correction
            else None,
            "outcome": dumps(delegation.outcome),
            "started_at": delegation.started_at,
            "ended_at": delegation.ended_at,
        }
        key = (
            plan_phases.c.run_id == delegation.run_id,
            plan_phases.c.phase_id == delegation.phase_id,
            plan_phases.c.round == delegation.round,
        )

        def tx(conn: Connection) -> None:
            found = conn.execute(select(plan_phases.c.status).where(*key)).first()
            if found is None:
                conn.execute(
                    plan_phases.insert().values(
                        run_id=delegation.run_id,
                        phase_id=delegation.phase_id,
                        round=delegation.round,
                        **values,
                    )
                )
                if delegation.correction is not None:
                    append_locked(
                        conn,
                        delegation.run_id,
                        [
                            NewEvent(
                                EventKind.CORRECTION_REQUESTED,
                                delegation.correction.model_dump(mode="json"),
                            )
                        ],
                        now,
                    )
            else:
                conn.execute(plan_phases.update().where(*key).values(**values))
            if delegation.status is not PhaseStatus.RUNNING:
                append_locked(
                    conn,
                    delegation.run_id,
                    [
                        NewEvent(
                            EventKind.PHASE_TRANSITION,
                            {
                                "phase_id": delegation.phase_id,
                                "round": delegation.round,
                                "status": delegation.status.value,
                                "child_run_id": delegation.child_run_id,
                            },
                        )
                    ],
                    now,
                )

        self.db.run(tx)

    def phases(self, run_id: str) -> list[PhaseDelegation]:
        """Every delegation of a plan run, in order of start."""
        q = (
            select(plan_phases)
            .where(plan_phases.c.run_id == run_id)
            .order_by(plan_phases.c.started_at, plan_phases.c.phase_id, plan_phases.c.round)
        )
        with self.db.transaction(write=False) as conn:
            return [_delegation(r) for r in conn.execute(q)]

    # ---- gates --------------------------------------------------------------------------
    def record_gate(self, run_id: str, result: GateResult, now: datetime) -> None:
        """Store a gate evaluation (once per gate and round) and log it."""
        key = (
            plan_gates.c.run_id == run_id,
            plan_gates.c.gate == result.gate,
            plan_gates.c.round == result.round,
        )
        body = result.model_dump(mode="json")

        def tx(conn: Connection) -> None:
            if conn.execute(select(plan_gates.c.gate).where(*key)).first() is not None:
                return
            conn.execute(
                plan_gates.insert().values(
                    run_id=run_id,
                    gate=result.gate,
                    round=result.round,
                    passed=result.passed,
                    result=dumps(body),
                    evaluated_at=result.evaluated_at,
                )
            )
            kind = EventKind.GATE_PASSED if result.passed else EventKind.GATE_FAILED
            append_locked(
                conn,
                run_id,
                [
                    NewEvent(EventKind.GATE_EVALUATED, body),
                    NewEvent(kind, {"gate": result.gate, "round": result.round}),
                ],
                now,
            )

        self.db.run(tx)

    def gates(self, run_id: str) -> list[GateResult]:
        """Every gate evaluation of a plan run, in order."""
        q = (
            select(plan_gates.c.result)
            .where(plan_gates.c.run_id == run_id)
            .order_by(plan_gates.c.evaluated_at, plan_gates.c.round)
        )
        with self.db.transaction(write=False) as conn:
            return [GateResult.model_validate(loads(r.result)) for r in conn.execute(q)]

    def gates_of(self, run_ids: Sequence[str]) -> dict[str, list[GateResult]]:
        """Every gate evaluation of several plan runs (one read): run id → its evaluations in
        order, as ``gates`` gives them (a run without any maps to an empty list)."""
        out: dict[str, list[GateResult]] = {run_id: [] for run_id in run_ids}
        ids = list(out)
        with self.db.transaction(write=False) as conn:
            for start in range(0, len(ids), 500):
                q = (
                    select(plan_gates.c.run_id, plan_gates.c.result)
                    .where(plan_gates.c.run_id.in_(ids[start : start + 500]))
                    .order_by(plan_gates.c.run_id, plan_gates.c.evaluated_at, plan_gates.c.round)
                )
                for r in conn.execute(q):
                    out[r.run_id].append(GateResult.model_validate(loads(r.result)))
        return out

    # ---- escalations --------------------------------------------------------------------
    def raise_escalation(self, escalation: Escalation, project_id: str, now: datetime) -> None:
        """Store an escalation (once) and mark the plan run as waiting for a decision."""

        def tx(conn: Connection) -> None:
            found = conn.execute(
                select(plan_escalations.c.escalation_id).where(
                    plan_escalations.c.escalation_id == escalation.escalation_id
                )
            ).first()
            if found is not None:
                return
            conn.execute(
                plan_escalations.insert().values(
                    escalation_id=escalation.escalation_id,
                    run_id=escalation.run_id,
                    plan_id=escalation.plan_id,
                    project_id=project_id,
                    gate=escalation.blocked_gate,
                    blocker_class=escalation.blocker_class.value,
                    status=EscalationStatus.OPEN.value,
                    payload=dumps(escalation.model_dump(mode="json")),
                    raised_at=escalation.raised_at,
                )
            )
            conn.execute(
                plan_runs.update()
                .where(plan_runs.c.run_id == escalation.run_id)
                .values(status=PlanStatus.WAITING_DECISION.value, updated_at=now)
            )
            append_locked(
                conn,
                escalation.run_id,
                [NewEvent(EventKind.ESCALATION_RAISED, escalation.model_dump(mode="json"))],
                now,
            )

        self.db.run(tx)

    def get_escalation(self, escalation_id: str) -> Escalation:
        """One escalation, or NotFound."""
        with self.db.transaction(write=False) as conn:
            payload = conn.execute(
                select(plan_escalations.c.payload).where(
                    plan_escalations.c.escalation_id == escalation_id
                )
            ).scalar_one_or_none()
        if payload is None:
            raise NotFound(
                f"no escalation {escalation_id}",
                hint="`runwright inbox` lists the open escalations",
                field="escalation_id",
            )
        return Escalation.model_validate(loads(payload))

    def escalations(
        self,
        *,
        run_id: str | None = None,
        status: EscalationStatus | None = None,
        project_id: str | None = None,
        limit: int = 200,
    ) -> list[Escalation]:
        """Escalations, oldest first."""
        q = select(plan_escalations.c.payload).order_by(plan_escalations.c.escalation_id)
        if run_id:
            q = q.where(plan_escalations.c.run_id == run_id)
        if status:
            q = q.where(plan_escalations.c.status == status.value)
        if project_id:
            q = q.where(plan_escalations.c.project_id == project_id)
        with self.db.transaction(write=False) as conn:
            return [
                Escalation.model_validate(loads(r.payload)) for r in conn.execute(q.limit(limit))
            ]

    def answer_escalation(
        self, escalation_id: str, answer: EscalationAnswer, now: datetime
    ) -> Escalation:
        """Record a human's answer and wake the plan run that waits on it."""

        def tx(conn: Connection) -> Escalation:
            row = conn.execute(
                select(plan_escalations)
                .where(plan_escalations.c.escalation_id == escalation_id)
                .with_for_update()
            ).first()
            if row is None:
                raise NotFound(
                    f"no escalation {escalation_id}",
                    hint="`runwright inbox` lists the open escalations",
                    field="escalation_id",
                )
            if row.status != EscalationStatus.OPEN.value:
                raise Conflict(
                    f"escalation {escalation_id} was already answered",
                    hint="`runwright plan show RUN` shows the answer and what happened next",
                )
            escalation = Escalation.model_validate(loads(row.payload))
            answered = escalation.model_copy(
                update={"status": EscalationStatus.ANSWERED, "answer": answer}
            )
            Escalation.model_validate(answered.model_dump())
            conn.execute(
                plan_escalations.update()
                .where(plan_escalations.c.escalation_id == escalation_id)
                .values(
                    status=EscalationStatus.ANSWERED.value,
                    payload=dumps(answered.model_dump(mode="json")),
                    answered_at=now,
                )
            )
            conn.execute(
                plan_runs.update()
                .where(plan_runs.c.run_id == row.run_id)
                .values(status=PlanStatus.RUNNING.value, updated_at=now)
            )
            run = conn.execute(
                select(runs.c.state, runs.c.state_reason).where(runs.c.run_id == row.run_id)
            ).first()
            waiting = (
                run is not None
                and run.state == RunState.WAITING.value
                and ((run.state_reason or "").startswith(StateReason.ESCALATED))
            )
            events = [
                NewEvent(
                    EventKind.HUMAN_ACTION,
                    {"action": f"answer-escalation:{answer.option}", "by": answer.by},
                ),
                NewEvent(
                    EventKind.ESCALATION_RESOLVED,
                    {"escalation_id": escalation_id, **answer.model_dump(mode="json")},
                ),
            ]
            if waiting:
                append_locked(conn, row.run_id, events, now, available_at=now, wake_at=None)
            else:
                append_locked(conn, row.run_id, events, now)
            notify_ready(conn)
            return answered

        return self.db.run(tx)

    def record_completion(
        self, run_id: str, completion: dict[str, Any], path: str, status: PlanStatus, now: datetime
    ) -> None:
        """Store the completion contract (with its ``stage-*`` event) and the run's status."""
        kind = {
            "complete": EventKind.STAGE_COMPLETE,
            "blocked": EventKind.STAGE_BLOCKED,
            "escalated": EventKind.STAGE_ESCALATED,
        }[str(completion["execution_status"])]
        self.update(
            run_id,
            now,
            completion=completion,
            completion_path=path,
            status=status.value,
            stage="completion",
            events=[
                NewEvent(kind, {"execution_status": completion.get("execution_status")}),
                NewEvent(EventKind.COMPLETION_WRITTEN, {"path": path}),
            ],
        )
