"""Run records: create, read, list, cancel, and the event log and evidence of a run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, or_, select

from runwright.domain.events import EventKind, RunEvent, StoredEvent, check_event_kind
from runwright.domain.evidence import EvidenceLink
from runwright.domain.runs import Run, RunKind, StepAttempt
from runwright.domain.states import TERMINAL_RUN_STATES, RunState, StateReason
from runwright.errors import NotFound, ValidationError
from runwright.store.core.chain import (
    INSERT_EVENTS,
    ChainHead,
    NewEvent,
    append_locked,
    build_events,
)
from runwright.store.core.lifecycle import cancel, notify_ready
from runwright.store.core.records import NewRun, RunFilter
from runwright.store.core.rows import (
    attempt_from_row,
    event_from_row,
    evidence_from_row,
    evidence_row,
    run_from_row,
    stored_event_from_row,
)
from runwright.store.core.run_end import RunEnd, run_ended
from runwright.store.core.run_features import SELECT_RUNS, insert_features
from runwright.store.database import Database
from runwright.store.schema import evidence, run_deps, run_events, runs, step_attempts
from runwright.store.types import dumps

_INSERT_RUNS = runs.insert()
_INSERT_DEPS = run_deps.insert()
_GENESIS = ChainHead(0, "0" * 64)
_FAILED_STATES = {s.value for s in TERMINAL_RUN_STATES} - {RunState.SUCCEEDED.value}


def new_run_rows(
    conn: Connection, specs: list[NewRun], now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for new runs (the core's columns), their dependency edges and first events."""
    batch_ids = {s.run_id for s in specs}
    outside = sorted({d for s in specs for d in s.depends_on} - batch_ids)
    dep_states: dict[str, str] = {}
    if outside:
        # Lock the dependencies so none can finish unnoticed between this read and our insert.
        dep_states = dict(
            conn.execute(
                select(runs.c.run_id, runs.c.state)
                .where(runs.c.run_id.in_(outside))
                .order_by(runs.c.run_id)
                .with_for_update()
            ).all()
        )
        missing = [d for d in outside if d not in dep_states]
        if missing:
            raise NotFound(
                f"depends_on names runs that do not exist: {', '.join(missing)}",
                hint="create the runs it depends on first",
                field="depends_on",
            )
    depended_on = {d for s in specs for d in s.depends_on}
    run_rows, dep_rows, event_rows = [], [], []
    for spec in specs:
        pending = 0
        failed_dep = None
        for dep in spec.depends_on:
            if dep == spec.run_id:
                raise ValidationError("a run cannot depend on itself", field="depends_on")
            dep_state = dep_states.get(dep, RunState.PENDING.value)
            if dep_state in _FAILED_STATES:
                failed_dep = dep
            elif dep_state != RunState.SUCCEEDED.value:
                pending += 1
            dep_rows.append({"run_id": spec.run_id, "depends_on_run_id": dep})
        state: RunState = RunState.PENDING
        reason: str | None = None
        available: datetime | None = spec.start_at or now
        if failed_dep:
            state, reason, available = (
                RunState.CANCELED,
                f"{StateReason.DEPENDENCY_FAILED}:{failed_dep}",
                None,
            )
        elif pending:
            reason, available = StateReason.WAITING_DEPENDENCIES, None
        created = NewEvent(
            EventKind.RUN_CREATED,
            {
                "job_name": spec.job_name,
                "kind": spec.kind.value,
                "parent_run_id": spec.parent_run_id,
                "depends_on": list(spec.depends_on),
                "origin": spec.origin.model_dump(mode="json", exclude_none=True),
            },
        )
        events = [created]
        if state == RunState.CANCELED:
            events.append(
                NewEvent(
                    EventKind.RUN_STATE_CHANGED,
                    {"from": "pending", "to": "canceled", "reason": reason},
                )
            )
        rows, head = build_events(spec.run_id, _GENESIS, events, now)
        event_rows.extend(rows)
        run_rows.append(
            {
                "run_id": spec.run_id,
                "project_id": spec.project_id,
                "kind": spec.kind.value,
                "job_name": spec.job_name,
                "job_module": spec.job_module,
                "state": state.value,
                "state_reason": reason,
                "origin": dumps(spec.origin.model_dump(mode="json"), what="origin"),
                "step_attempts": 0,
                "errors": 0,
                "created_at": now,
                "started_at": None,
                "ended_at": now if state == RunState.CANCELED else None,
                "updated_at": now,
                "args": dumps(list(spec.args), what="run args"),
                "kwargs": dumps(dict(spec.kwargs), what="run kwargs"),
                "parent_run_id": spec.parent_run_id,
                "max_parallel": spec.max_parallel,
                "running_children": 0,
                "pending_deps": pending,
                "has_dependents": spec.run_id in depended_on,
                "wait_for": None,
                "idempotency_key": spec.idempotency_key,
                "result": None,
                "failure": None,
                "next_pointer": None,
                "attempt": 0,
                "available_at": available,
                "wake_at": None,
                "lease_owner": None,
                "lease_expires_at": None,
                "cancel_requested": False,
                "timeout_seconds": spec.timeout_seconds,
                "deadline_at": None,
                "manifest_path": None,
                "manifest_sha256": None,
                "event_seq": head.seq,
                "last_event_hash": head.hash,
            }
        )
    return run_rows, dep_rows, event_rows


def run_with_key(conn: Connection, project_id: str, key: str) -> str | None:
    """The id of the project's run created with idempotency key ``key``, if there is one."""
    found = conn.execute(
        select(runs.c.run_id).where(runs.c.project_id == project_id, runs.c.idempotency_key == key)
    ).scalar()
    return None if found is None else str(found)


def insert_runs(conn: Connection, specs: list[NewRun], now: datetime) -> None:
    """Insert new runs with their edges, first events and the parts' fields (phase, mode,
    block, execution request: see ``run_features``) in the caller's transaction."""
    run_rows, dep_rows, event_rows = new_run_rows(conn, specs, now)
    conn.execute(_INSERT_RUNS, run_rows)
    insert_features(conn, specs)
    if dep_rows:
        conn.execute(_INSERT_DEPS, dep_rows)
        batch = {r["run_id"] for r in run_rows}
        outside = sorted({d["depends_on_run_id"] for d in dep_rows} - batch)
        if outside:
            conn.execute(
                runs.update().where(runs.c.run_id.in_(outside)).values(has_dependents=True)
            )
    conn.execute(INSERT_EVENTS, event_rows)
    if any(r["available_at"] is not None for r in run_rows):
        notify_ready(conn)
    for r in run_rows:  # born canceled (a run it depends on had failed): that is its end
        if r["state"] == RunState.CANCELED.value:
            run_ended(conn, _born_ended(r, now))


def _born_ended(row: dict[str, Any], now: datetime) -> RunEnd:
    return RunEnd(
        run_id=row["run_id"],
        job_name=row["job_name"],
        kind=RunKind(row["kind"]),
        state=RunState.CANCELED,
        reason=row["state_reason"],
        parent_run_id=row["parent_run_id"],
        project_id=row["project_id"],
        now=now,
    )


class RunQueries:
    """The run-record half of the SQL store."""

    db: Database

    def create_run(self, spec: NewRun, now: datetime) -> Run:
        """Create one run (or return the existing one with the same idempotency key)."""

        def tx(conn: Connection) -> str:
            if spec.idempotency_key:
                existing = run_with_key(conn, spec.project_id, spec.idempotency_key)
                if existing:
                    return existing
            insert_runs(conn, [spec], now)
            return spec.run_id

        return self.get_run(self.db.run(tx))

    def create_runs(self, specs: list[NewRun], now: datetime) -> list[str]:
        """Create many runs in one transaction (fast enqueue); return their ids."""
        if specs:
            self.db.run(lambda conn: insert_runs(conn, specs, now))
        return [s.run_id for s in specs]

    def get_run(self, run_id: str) -> Run:
        """The run with ``run_id``, or NotFound."""

        def tx(conn: Connection) -> Run:
            row = conn.execute(SELECT_RUNS.where(runs.c.run_id == run_id)).first()
            if row is None:
                raise NotFound(
                    f"run {run_id} not found",
                    hint="list runs with `runwright run list`",
                    run_id=run_id,
                )
            run = run_from_row(row)
            deps = list(
                conn.execute(
                    select(run_deps.c.depends_on_run_id).where(run_deps.c.run_id == run_id)
                ).scalars()
            )
            return run.model_copy(update={"depends_on": deps}) if deps else run

        return self.db.run(tx, write=False)

    def list_runs(self, flt: RunFilter) -> list[Run]:
        """Runs matching ``flt``, newest first, paginated by ``before_run_id``."""
        q = SELECT_RUNS
        if flt.states:
            q = q.where(runs.c.state.in_(flt.states))
        if flt.kind:
            q = q.where(runs.c.kind == flt.kind)
        if flt.job_name:
            q = q.where(runs.c.job_name == flt.job_name)
        if flt.project_id:
            q = q.where(runs.c.project_id == flt.project_id)
        if flt.parent_run_id:
            q = q.where(runs.c.parent_run_id == flt.parent_run_id)
        if flt.before_run_id:
            q = q.where(runs.c.run_id < flt.before_run_id)
        if flt.reason:
            q = q.where(runs.c.state_reason.startswith(flt.reason, autoescape=True))
        if flt.search:
            like = f"%{flt.search}%"
            q = q.where(
                or_(
                    runs.c.run_id.like(like),
                    runs.c.job_name.like(like),
                    runs.c.state_reason.like(like),
                    runs.c.next_pointer.like(like),
                )
            )
        q = q.order_by(runs.c.run_id.desc()).limit(flt.limit)
        return self.db.run(lambda conn: [run_from_row(r) for r in conn.execute(q)], write=False)

    def count_runs_by_state(self, project_id: str | None = None) -> dict[str, int]:
        """How many runs are in each state."""
        q = select(runs.c.state, func.count()).group_by(runs.c.state)
        if project_id:
            q = q.where(runs.c.project_id == project_id)
        rows = self.db.run(lambda conn: conn.execute(q).all(), write=False)
        return {str(state): int(n) for state, n in rows}

    def dependencies(self, run_id: str) -> list[str]:
        """The runs ``run_id`` depends on."""
        q = select(run_deps.c.depends_on_run_id).where(run_deps.c.run_id == run_id)
        return self.db.run(lambda conn: list(conn.execute(q).scalars()), write=False)

    def request_cancel(self, run_id: str, now: datetime, *, by: str) -> Run:
        """Cancel a run (and its children); a running run is asked to stop at its next step."""
        self.db.run(lambda conn: cancel(conn, run_id, now, by=by))
        return self.get_run(run_id)

    def set_next_pointer(self, run_id: str, next_pointer: str, now: datetime, *, by: str) -> Run:
        """Record the one-line next pointer of a run."""
        line = next_pointer.strip()
        if not line or "\n" in line or "\r" in line:
            raise ValidationError("next pointer must be one non-empty line", field="next_pointer")

        def tx(conn: Connection) -> None:
            append_locked(
                conn,
                run_id,
                [NewEvent(EventKind.NEXT_POINTER_SET, {"next_pointer": line, "by": by})],
                now,
                next_pointer=line,
            )

        self.db.run(tx)
        return self.get_run(run_id)

    def append_event(
        self,
        run_id: str,
        kind: str,
        payload: dict[str, Any],
        now: datetime,
        *,
        step_attempt_id: str | None = None,
    ) -> RunEvent:
        """Append one event to a run's log."""
        ev = NewEvent(check_event_kind(kind), payload, step_attempt_id)

        def tx(conn: Connection) -> int:
            return append_locked(conn, run_id, [ev], now).seq

        seq = self.db.run(tx)
        return self.list_events(run_id, after_seq=seq - 1, limit=1)[0]

    def list_events(
        self, run_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[RunEvent]:
        """A run's events in order, from ``after_seq`` + 1."""
        q = (
            select(run_events)
            .where(run_events.c.run_id == run_id, run_events.c.seq > after_seq)
            .order_by(run_events.c.seq)
        )
        if limit is not None:
            q = q.limit(limit)
        return self.db.run(lambda conn: [event_from_row(r) for r in conn.execute(q)], write=False)

    def list_stored_events(self, run_id: str) -> list[StoredEvent]:
        """A run's events in order, exactly as stored (for verification: nothing trusted)."""
        q = select(run_events).where(run_events.c.run_id == run_id).order_by(run_events.c.seq)
        return self.db.run(
            lambda conn: [stored_event_from_row(r) for r in conn.execute(q)], write=False
        )

    def list_step_attempts(self, run_id: str) -> list[StepAttempt]:
        """A run's step attempts in sequence order."""
        q = (
            select(step_attempts)
            .where(step_attempts.c.run_id == run_id)
            .order_by(step_attempts.c.sequence)
        )
        return self.db.run(lambda conn: [attempt_from_row(r) for r in conn.execute(q)], write=False)

    def list_evidence(self, run_id: str) -> list[EvidenceLink]:
        """The evidence linked from a run, oldest first."""
        q = select(evidence).where(evidence.c.run_id == run_id).order_by(evidence.c.evidence_id)
        return self.db.run(
            lambda conn: [evidence_from_row(r) for r in conn.execute(q)], write=False
        )

    def add_evidence(self, run_id: str, links: list[EvidenceLink], now: datetime) -> None:
        """Link evidence to a run outside any step (one event per link)."""
        if not links:
            return

        def tx(conn: Connection) -> None:
            conn.execute(evidence.insert(), [evidence_row(link) for link in links])
            append_locked(
                conn,
                run_id,
                [
                    NewEvent(
                        EventKind.EVIDENCE_ATTACHED,
                        {
                            "evidence_id": link.evidence_id,
                            "path": link.artifact_path,
                            "sha256": link.sha256,
                        },
                    )
                    for link in links
                ],
                now,
            )

        self.db.run(tx)
