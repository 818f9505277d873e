"""The worker's half of the SQL store: claims, leases, step memos, parking and finishing.

Every write made under a lease is fenced: it succeeds only while ``(lease_owner, attempt)``
still names this worker's claim, so a worker that lost its lease can never record anything.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select
from sqlalchemy.exc import DBAPIError

from runwright.domain.events import GENESIS_HASH, EventKind
from runwright.domain.failures import Failure
from runwright.domain.runs import Run, StepAttempt, StepOutputs, StepResult
from runwright.domain.states import RunState, StepState, check_run_transition
from runwright.errors import Conflict, LeaseLost, StorageError
from runwright.store.core.chain import ChainHead, NewEvent, build_events, insert_events
from runwright.store.core.lifecycle import after_terminal, open_count
from runwright.store.core.pg_fast import record_step, rows_json
from runwright.store.core.records import (
    Claim,
    ClaimRequest,
    Finisher,
    FinisherFailed,
    Lease,
    LeaseStatus,
    NewRun,
    StepOutcome,
)
from runwright.store.core.rows import (
    attempt_from_row,
    evidence_row,
    result_from_row,
    run_from_mapping,
)
from runwright.store.core.run_end import run_end_of, run_ended
from runwright.store.core.run_queries import insert_runs
from runwright.store.core.statements import (
    CLAIM_SQL,
    RENEW,
    TAKE_PARENT_SLOT,
    claim_candidates,
    fenced_driver,
)
from runwright.store.database import Database
from runwright.store.driver_sql import DriverStatement
from runwright.store.schema import evidence, run_events, runs, step_attempts, step_results
from runwright.store.types import dumps

_HEAD_KEYS = frozenset({"event_seq", "last_event_hash", "updated_at"})
_INSERT_ATTEMPT = DriverStatement(
    step_attempts.insert(), keys=[c.name for c in step_attempts.columns]
)
_INSERT_RESULT = DriverStatement(step_results.insert(), keys=[c.name for c in step_results.columns])
_INSERT_EVIDENCE = evidence.insert()
_CLOSE_ATTEMPT = DriverStatement(
    step_attempts.update()
    .where(
        step_attempts.c.step_attempt_id == bindparam("b_id"),
        step_attempts.c.state == StepState.RUNNING.value,
    )
    .values(
        state=bindparam("v_state"),
        ended_at=bindparam("v_ended_at"),
        failure=bindparam("v_failure"),
        outputs=bindparam("v_outputs"),
    )
)
_FREE_SLOT = DriverStatement(
    runs.update()
    .where(runs.c.run_id == bindparam("b_parent"), runs.c.max_parallel.is_not(None))
    .values(running_children=runs.c.running_children - 1)
)
_SET_WAIT = DriverStatement(
    runs.update()
    .where(runs.c.run_id == bindparam("b_run"))
    .values(wait_remaining=bindparam("v_remaining"), available_at=bindparam("v_available"))
)
_CLAIM_BATCH = 2
#: What the UPDATE that ends a run returns: the cascade's and the run-end hooks' inputs.
_ENDED = ("run_id", "job_name", "kind", "parent_run_id", "project_id", "has_dependents")


def advance(
    conn: Connection,
    lease: Lease,
    events: list[NewEvent],
    now: datetime,
    *,
    values: dict[str, Any] | None = None,
    deltas: dict[str, int] | None = None,
    returning: tuple[str, ...] = (),
    pending: list[dict[str, Any]] | None = None,
) -> Row[Any] | None:
    """Append events and update the leased run in one fenced UPDATE.

    Optimistic on the chain head the lease remembers; if another writer appended meanwhile
    (a cancel request, say) the head is re-read under lock and the events are re-chained. A
    lease that is no longer ours raises LeaseLost and nothing is written. With ``pending`` the
    event rows are added to that list for the caller to insert later in the same transaction
    (with other rows, in one statement) instead of being inserted here.
    """
    values = values or {}
    deltas = deltas or {}
    keys = frozenset(values) | _HEAD_KEYS
    rows, head = build_events(
        lease.run_id, ChainHead(lease.event_seq, lease.last_event_hash), events, now
    )
    params: dict[str, Any] = {
        "b_run": lease.run_id,
        "b_owner": lease.worker_id,
        "b_attempt": lease.attempt,
        "b_seq": lease.event_seq,
        "v_event_seq": head.seq,
        "v_last_event_hash": head.hash,
        "v_updated_at": now,
    }
    params.update({f"v_{k}": v for k, v in values.items()})
    params.update({f"d_{k}": v for k, v in deltas.items()})
    stmt = fenced_driver(keys, frozenset(deltas), check_seq=True, returning=returning)
    res = stmt.execute(conn, params)
    row = res.first() if returning else None
    if (row is None) if returning else (res.rowcount != 1):
        current = conn.execute(
            select(runs.c.lease_owner, runs.c.attempt, runs.c.event_seq, runs.c.last_event_hash)
            .where(runs.c.run_id == lease.run_id)
            .with_for_update()
        ).first()
        if (
            current is None
            or current.lease_owner != lease.worker_id
            or current.attempt != lease.attempt
        ):
            raise LeaseLost(
                f"worker {lease.worker_id} lost its lease on run {lease.run_id}",
                run_id=lease.run_id,
            )
        head0 = ChainHead(current.event_seq, current.last_event_hash or GENESIS_HASH)
        rows, head = build_events(lease.run_id, head0, events, now)
        params.update(v_event_seq=head.seq, v_last_event_hash=head.hash)
        stmt = fenced_driver(keys, frozenset(deltas), check_seq=False, returning=returning)
        res = stmt.execute(conn, params)
        row = res.first() if returning else None
    if pending is None:
        insert_events(conn, rows)
    else:
        pending.extend(rows)
    lease.event_seq, lease.last_event_hash = head.seq, head.hash
    return row


def _claim_events(run_state: RunState, started: bool, previous_owner: str | None) -> list[NewEvent]:
    if run_state == RunState.RUNNING:
        return [NewEvent(EventKind.LEASE_TAKEN_OVER, {"previous_owner": previous_owner})]
    check_run_transition(run_state, RunState.RUNNING)
    events = [] if started else [NewEvent(EventKind.RUN_STARTED, {})]
    events.append(NewEvent(EventKind.RUN_STATE_CHANGED, {"from": run_state.value, "to": "running"}))
    return events


class WorkerOps:
    """Claims, leases and the durable-step writes."""

    db: Database
    get_run: Callable[[str], Run]

    def claim_run(
        self,
        worker_id: str,
        now: datetime,
        lease_seconds: float,
        *,
        jobs: tuple[str, ...] | None = None,
    ) -> Claim | None:
        """Claim the oldest ready run (of one of ``jobs`` if given), taking over one whose
        worker's lease expired."""
        if jobs is not None and not jobs:
            return None
        ask = ClaimRequest(worker_id, lease_seconds, jobs)
        return self.db.run(lambda conn: self._claim_in(conn, ask, now))

    def _claim_in(
        self,
        conn: Connection,
        ask: ClaimRequest,
        now: datetime,
        pending: list[dict[str, Any]] | None = None,
    ) -> Claim | None:
        """Claim inside the caller's transaction (event rows go to ``pending`` if given)."""
        if ask.jobs is not None and not ask.jobs:
            return None
        names = ask.jobs or ()
        q = claim_candidates(not self.db.is_sqlite, _CLAIM_BATCH, len(names))
        expires = now + timedelta(seconds=ask.lease_seconds)
        params: dict[str, Any] = {"now": now}
        params.update({f"job_{i}": name for i, name in enumerate(names)})
        found = q.execute(conn, params)
        try:
            # One row at a time: the second candidate is only read (and typed) if the first
            # one's parent has no free slot.
            while (cand := found.fetchone()) is not None:
                state = RunState(cand.state)
                if (
                    cand.parent_run_id
                    and cand.parent_max_parallel is not None
                    and state != RunState.RUNNING
                ):
                    slot = TAKE_PARENT_SLOT.execute(conn, {"b_parent": cand.parent_run_id})
                    if slot.rowcount != 1:
                        continue
                found.close()
                return self._take(conn, cand, state, ask.worker_id, now, expires, pending)
            return None
        finally:
            found.close()

    def _take(
        self,
        conn: Connection,
        row: Any,
        state: RunState,
        worker_id: str,
        now: datetime,
        expires: datetime,
        pending: list[dict[str, Any]] | None,
    ) -> Claim:
        previous = row.lease_owner if state == RunState.RUNNING else None
        events = _claim_events(state, row.started_at is not None, previous)
        rows, head = build_events(
            row.run_id,
            ChainHead(row.event_seq, row.last_event_hash or GENESIS_HASH),
            events,
            now,
        )
        attempt = row.attempt + 1
        deadline = row.deadline_at
        if deadline is None and row.timeout_seconds:
            deadline = now + timedelta(seconds=row.timeout_seconds)
        started = row.started_at or now
        CLAIM_SQL.execute(
            conn,
            {
                "b_run": row.run_id,
                "v_attempt": attempt,
                "v_owner": worker_id,
                "v_expires": expires,
                "v_started": started,
                "v_deadline": deadline,
                "v_now": now,
                "v_seq": head.seq,
                "v_hash": head.hash,
            },
        )
        if pending is None:
            insert_events(conn, rows)
        else:
            pending.extend(rows)
        mapping = row._asdict()
        mapping.update(
            state=RunState.RUNNING.value,
            state_reason=None,
            attempt=attempt,
            lease_owner=worker_id,
            lease_expires_at=expires,
            started_at=started,
            deadline_at=deadline,
            wake_at=None,
            wait_for=None,
            updated_at=now,
            event_seq=head.seq,
            last_event_hash=head.hash,
        )
        lease = Lease(
            run_id=row.run_id,
            worker_id=worker_id,
            attempt=attempt,
            expires_at=expires,
            event_seq=head.seq,
            last_event_hash=head.hash,
            parent_run_id=row.parent_run_id,
            step_sequence=row.step_attempts,
        )
        return Claim(run=run_from_mapping(mapping), lease=lease, took_over_from=previous)

    def renew_lease(self, lease: Lease, now: datetime, lease_seconds: float) -> LeaseStatus:
        """Extend the lease; report whether it is still held and whether cancel was asked."""
        expires = now + timedelta(seconds=lease_seconds)
        params = {
            "b_run": lease.run_id,
            "b_owner": lease.worker_id,
            "b_attempt": lease.attempt,
            "v_expires": expires,
        }

        def tx(conn: Connection) -> LeaseStatus:
            row = RENEW.execute(conn, params).first()
            if row is None:
                return LeaseStatus(held=False)
            return LeaseStatus(held=True, cancel_requested=bool(row.cancel_requested))

        status = self.db.run(tx)
        if status.held:
            lease.expires_at = expires
        return status

    def load_progress(
        self, run_id: str
    ) -> tuple[dict[str, StepResult], dict[str, StepAttempt], dict[str, int], dict[str, int]]:
        """A run's memo, attempts left running, attempts per step key and reconcile tries."""

        def tx(
            conn: Connection,
        ) -> tuple[dict[str, StepResult], dict[str, StepAttempt], dict[str, int], dict[str, int]]:
            memo = {
                r.step_key: result_from_row(r)
                for r in conn.execute(select(step_results).where(step_results.c.run_id == run_id))
            }
            counts = {
                str(k): int(n)
                for k, n in conn.execute(
                    select(step_attempts.c.step_key, func.max(step_attempts.c.attempt))
                    .where(step_attempts.c.run_id == run_id)
                    .group_by(step_attempts.c.step_key)
                )
            }
            open_attempts = {
                r.step_key: attempt_from_row(r)
                for r in conn.execute(
                    select(step_attempts)
                    .where(
                        step_attempts.c.run_id == run_id,
                        step_attempts.c.state == StepState.RUNNING.value,
                    )
                    .order_by(step_attempts.c.sequence)
                )
            }
            reconciles: dict[str, int] = {}
            if open_attempts:
                reconciles = {
                    str(k): int(n)
                    for k, n in conn.execute(
                        select(run_events.c.step_attempt_id, func.count())
                        .where(
                            run_events.c.run_id == run_id,
                            run_events.c.kind == EventKind.RECONCILE_ATTEMPTED.value,
                        )
                        .group_by(run_events.c.step_attempt_id)
                    )
                    if k is not None
                }
            return memo, open_attempts, counts, reconciles

        return self.db.run(tx, write=False)

    def begin_step(self, lease: Lease, attempt: StepAttempt, now: datetime) -> None:
        """Record that a non-idempotent step is about to run (written before the call)."""
        event = NewEvent(
            EventKind.TOOL_CALL_STARTED,
            {"step_key": attempt.step_key, "attempt": attempt.attempt, "tool_id": attempt.tool_id},
            attempt.step_attempt_id,
        )

        def tx(conn: Connection) -> None:
            advance(conn, lease, [event], now, deltas={"step_attempts": 1})
            _INSERT_ATTEMPT.execute(conn, _attempt_row(attempt))

        self.db.run(tx)

    def finish_step(self, lease: Lease, outcome: StepOutcome, now: datetime) -> None:
        """Record how a step attempt ended, its memo and evidence, in one transaction."""
        a = outcome.attempt
        ok = a.state == StepState.COMPLETED
        events = [
            NewEvent(
                EventKind.TOOL_CALL_COMPLETED if ok else EventKind.TOOL_CALL_ERROR,
                _step_payload(outcome),
                a.step_attempt_id,
            )
        ]
        if outcome.retry_at is not None:
            events.append(
                NewEvent(
                    EventKind.STEP_RETRY_SCHEDULED,
                    {
                        "step_key": a.step_key,
                        "next_attempt": a.attempt + 1,
                        "at": outcome.retry_at.isoformat(),
                    },
                    a.step_attempt_id,
                )
            )
        deltas = {"step_attempts": 0 if outcome.begun else 1, "errors": 0 if ok else 1}
        if (
            not self.db.is_sqlite
            and not outcome.begun
            and self._record_step_fast(lease, outcome, events, deltas, now)
        ):
            return

        def tx(conn: Connection) -> None:
            advance(conn, lease, events, now, deltas=deltas)
            if outcome.begun:
                done = _CLOSE_ATTEMPT.execute(
                    conn,
                    {
                        "b_id": a.step_attempt_id,
                        "v_state": a.state.value,
                        "v_ended_at": a.ended_at,
                        "v_failure": _dump_failure(a.failure),
                        "v_outputs": _dump_outputs(a.outputs),
                    },
                )
                if done.rowcount != 1:
                    raise Conflict(
                        f"step attempt {a.step_attempt_id} is not running", step=a.step_key
                    )
            else:
                _INSERT_ATTEMPT.execute(conn, _attempt_row(a))
            if outcome.evidence:
                conn.execute(_INSERT_EVIDENCE, [evidence_row(e) for e in outcome.evidence])
            if outcome.memo is not None:
                _INSERT_RESULT.execute(conn, _result_row(outcome.memo))

        self.db.run(tx)

    def finish_steps(self, lease: Lease, outcomes: list[StepOutcome], now: datetime) -> None:
        """Record several completed idempotent steps in one transaction (group commit): their
        events in order, their attempts and memos, one fenced update of the run."""
        if outcomes:
            self.db.run(lambda conn: _record_steps(conn, lease, outcomes, now))

    def _record_step_fast(
        self,
        lease: Lease,
        outcome: StepOutcome,
        events: list[NewEvent],
        deltas: dict[str, int],
        now: datetime,
    ) -> bool:
        """PostgreSQL: one statement, one round trip; False if the fence did not match."""
        rows, head = build_events(
            lease.run_id, ChainHead(lease.event_seq, lease.last_event_hash), events, now
        )
        a = _attempt_row(outcome.attempt)
        memo = _result_row(outcome.memo) if outcome.memo is not None else None
        params: dict[str, Any] = {
            "run": lease.run_id,
            "owner": lease.worker_id,
            "attempt": lease.attempt,
            "seq": lease.event_seq,
            "n_seq": head.seq,
            "n_hash": head.hash,
            "now": now,
            "d_steps": deltas["step_attempts"],
            "d_errors": deltas["errors"],
            "events": rows_json(rows),
            "begun": False,
            "has_memo": memo is not None,
            "m_status": memo["status"] if memo else None,
            "m_result": memo["result"] if memo else None,
            "m_failure": memo["failure"] if memo else None,
            "m_completed_at": memo["completed_at"] if memo else None,
            "evidence": rows_json([evidence_row(e) for e in outcome.evidence]),
        }
        params.update({f"a_{k}": v for k, v in a.items() if k not in {"step_attempt_id", "run_id"}})
        params["a_id"] = a["step_attempt_id"]
        fenced, _ = self.db.run(lambda conn: record_step(conn, params), single_statement=True)
        if fenced:
            lease.event_seq, lease.last_event_hash = head.seq, head.hash
        return fenced

    def start_children(
        self, lease: Lease, step_key: str, specs: list[NewRun], now: datetime
    ) -> list[str]:
        """Create child runs and memoize their ids under ``step_key``, exactly once."""
        from runwright.domain.ids import new_id

        ids = [s.run_id for s in specs]
        attempt_id = new_id()
        lease.step_sequence += 1
        attempt = StepAttempt(
            step_attempt_id=attempt_id,
            run_id=lease.run_id,
            sequence=lease.step_sequence,
            tool_id="runwright.start_children",
            state=StepState.COMPLETED,
            started_at=now,
            ended_at=now,
            step_key=step_key,
            attempt=1,
            idempotent=True,
        )
        memo = StepResult(
            run_id=lease.run_id,
            step_key=step_key,
            status="completed",
            result=ids,
            step_attempt_id=attempt_id,
            completed_at=now,
        )
        event = NewEvent(
            EventKind.CHILD_STARTED, {"step_key": step_key, "children": ids}, attempt_id
        )

        def tx(conn: Connection) -> None:
            # Children first: lock order is always child rows before the parent's row.
            insert_runs(conn, specs, now)
            advance(conn, lease, [event], now, deltas={"step_attempts": 1})
            _INSERT_ATTEMPT.execute(conn, _attempt_row(attempt))
            _INSERT_RESULT.execute(conn, _result_row(memo))

        self.db.run(tx)
        return ids

    def park_run(
        self,
        lease: Lease,
        now: datetime,
        *,
        reason: str,
        wake_at: datetime | None = None,
        wait_for: list[str] | None = None,
        payload: dict[str, Any] | None = None,
        extra_events: list[NewEvent] | None = None,
        claim_next: ClaimRequest | None = None,
    ) -> Claim | None:
        """Move a running run to waiting: on a timer, on children, or on a named thing.

        With ``claim_next`` the worker's next run is claimed in the same transaction.
        """
        body = {"from": "running", "to": "waiting", "reason": reason, **(payload or {})}
        if wake_at is not None:
            body["wake_at"] = wake_at.isoformat()
        if wait_for:
            body["wait_for"] = len(wait_for)
        events = [*(extra_events or []), NewEvent(EventKind.RUN_STATE_CHANGED, body)]

        def tx(conn: Connection) -> Claim | None:
            pending: list[dict[str, Any]] = []
            advance(
                conn,
                lease,
                events,
                now,
                pending=pending,
                values={
                    "state": RunState.WAITING.value,
                    "state_reason": reason,
                    "available_at": wake_at,
                    "wake_at": wake_at,
                    "wait_for": dumps(wait_for) if wait_for else None,
                    "lease_owner": None,
                    "lease_expires_at": None,
                },
            )
            if lease.parent_run_id:
                _free_slot(conn, lease.parent_run_id)
            if wait_for:
                # Counted after our row is locked: children ending from now on decrement it.
                remaining = open_count(conn, wait_for)
                _SET_WAIT.execute(
                    conn,
                    {
                        "b_run": lease.run_id,
                        "v_remaining": remaining,
                        "v_available": None if remaining else now,
                    },
                )
            claim = self._claim_in(conn, claim_next, now, pending) if claim_next else None
            insert_events(conn, pending)  # this run's and the next one's, in one statement
            return claim

        return self.db.run(tx)

    def finish_run(
        self,
        lease: Lease,
        now: datetime,
        *,
        state: RunState,
        result: Any = None,
        failure: Failure | None = None,
        reason: str | None = None,
        manifest: tuple[str, str] | None = None,
        claim_next: ClaimRequest | None = None,
        finisher: Finisher | None = None,
        steps: list[StepOutcome] | None = None,
    ) -> Claim | None:
        """End a running run: succeeded, failed, quarantined or canceled; cascade.

        ``steps`` are completed idempotent steps still waiting for a shared commit (group
        commit): they are recorded first, in the same transaction.

        With ``claim_next`` the worker's next run is claimed in the same transaction (one
        commit instead of two, and runs this one released are picked up at once). A
        ``finisher`` runs first in the same transaction (its appends to the run's log move the
        lease's chain head along); if it raises, nothing is written and the error comes back
        as FinisherFailed (database and lease errors come back as they are). After the end is
        written, the core's cascade and then the run-end hooks (``run_end``) run; a hook that
        raises undoes it all (``RunEndFailed``).
        """
        check_run_transition(RunState.RUNNING, state, run_id=lease.run_id)
        body: dict[str, Any] = {"from": "running", "to": state.value}
        if reason:
            body["reason"] = reason
        if failure is not None:
            body["error"] = {"type": failure.type, "message": failure.message[:500]}
        if manifest is not None:  # the log records the manifest, which anchors the log
            body["manifest"] = {"path": manifest[0], "sha256": manifest[1]}
        event = NewEvent(EventKind.RUN_STATE_CHANGED, body)
        result_text = dumps(result, what="job result") if state == RunState.SUCCEEDED else None

        def tx(conn: Connection) -> Claim | None:
            if steps:
                _record_steps(conn, lease, steps, now)
            if finisher is not None:
                _run_finisher(finisher, conn)
            pending: list[dict[str, Any]] = []
            row = advance(
                conn,
                lease,
                [event],
                now,
                pending=pending,
                values={
                    "state": state.value,
                    "state_reason": reason,
                    "result": result_text,
                    "failure": _dump_failure(failure),
                    "ended_at": now,
                    "available_at": None,
                    "wake_at": None,
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "manifest_path": manifest[0] if manifest else None,
                    "manifest_sha256": manifest[1] if manifest else None,
                },
                returning=_ENDED,
            )
            assert row is not None
            after_terminal(
                conn,
                lease.run_id,
                row.parent_run_id,
                state,
                now,
                was_running=True,
                has_dependents=bool(row.has_dependents),
            )
            run_ended(conn, run_end_of(row, state, reason, now))
            claim = self._claim_in(conn, claim_next, now, pending) if claim_next else None
            insert_events(conn, pending)  # this run's and the next one's, in one statement
            return claim

        return self.db.run(tx)

    def append_leased_event(
        self, lease: Lease, kind: EventKind, payload: dict[str, Any], now: datetime
    ) -> None:
        """Append one event to a run this worker holds."""
        self.db.run(lambda conn: advance(conn, lease, [NewEvent(kind, payload)], now))

    def release_run(self, lease: Lease, now: datetime) -> None:
        """Give the lease back at a step boundary (graceful stop); another worker continues."""
        event = NewEvent(EventKind.NOTE, {"message": f"worker {lease.worker_id} released the run"})

        def tx(conn: Connection) -> None:
            advance(
                conn, lease, [event], now, values={"lease_owner": None, "lease_expires_at": None}
            )

        self.db.run(tx)


def _step_payload(outcome: StepOutcome) -> dict[str, Any]:
    """The payload of the event that records how a step attempt ended."""
    a = outcome.attempt
    payload: dict[str, Any] = {"step_key": a.step_key, "attempt": a.attempt, "tool_id": a.tool_id}
    if a.failure is not None:
        payload["error"] = {"type": a.failure.type, "message": a.failure.message[:500]}
    if outcome.evidence:  # the log's record of each artifact, checked by verification
        payload["evidence"] = [e.evidence_id for e in outcome.evidence]
        payload["evidence_sha256"] = {e.evidence_id: e.sha256 for e in outcome.evidence}
    payload.update(outcome.extra)
    return payload


def _record_steps(
    conn: Connection, lease: Lease, outcomes: list[StepOutcome], now: datetime
) -> None:
    """Write completed idempotent steps that shared a commit, in the caller's transaction."""
    events: list[NewEvent] = []
    attempts: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    proofs: list[dict[str, Any]] = []
    for outcome in outcomes:
        a = outcome.attempt
        if outcome.begun or a.state != StepState.COMPLETED or outcome.memo is None:
            raise ValueError(
                f"step {a.step_key!r} cannot share a commit: "
                "not a completed idempotent step with a memo"
            )
        events.append(
            NewEvent(EventKind.TOOL_CALL_COMPLETED, _step_payload(outcome), a.step_attempt_id)
        )
        attempts.append(_attempt_row(a))
        results.append(_result_row(outcome.memo))
        proofs.extend(evidence_row(e) for e in outcome.evidence)
    advance(conn, lease, events, now, deltas={"step_attempts": len(outcomes), "errors": 0})
    _INSERT_ATTEMPT.execute(conn, attempts)
    if proofs:
        conn.execute(_INSERT_EVIDENCE, proofs)
    _INSERT_RESULT.execute(conn, results)


def _run_finisher(finisher: Finisher, conn: Connection) -> None:
    try:
        finisher(conn)
    except (DBAPIError, StorageError, LeaseLost):
        raise
    except Exception as exc:
        raise FinisherFailed(exc) from exc


def _free_slot(conn: Connection, parent_id: str) -> None:
    _FREE_SLOT.execute(conn, {"b_parent": parent_id})


_EMPTY_OUTPUTS = StepOutputs()
_EMPTY_OUTPUTS_JSON = dumps(_EMPTY_OUTPUTS.model_dump(mode="json"))


def _dump_outputs(outputs: StepOutputs) -> str:
    if outputs == _EMPTY_OUTPUTS:
        return _EMPTY_OUTPUTS_JSON
    return dumps(outputs.model_dump(mode="json"), what="step outputs")


def _dump_failure(failure: Failure | None) -> str | None:
    return None if failure is None else dumps(failure.model_dump(mode="json"), what="failure")


def _attempt_row(a: StepAttempt) -> dict[str, Any]:
    return {
        "step_attempt_id": a.step_attempt_id,
        "run_id": a.run_id,
        "sequence": a.sequence,
        "step_key": a.step_key,
        "attempt": a.attempt,
        "tool_id": a.tool_id,
        "state": a.state.value,
        "idempotent": a.idempotent,
        "started_at": a.started_at,
        "ended_at": a.ended_at,
        "failure": _dump_failure(a.failure),
        "worker_id": a.worker_id,
        "tool_run_id": a.tool_run_id,
        "execution_request_id": a.execution_request_id,
        "prompt_id": a.prompt_id,
        "outputs": _dump_outputs(a.outputs),
    }


def _result_row(m: StepResult) -> dict[str, Any]:
    return {
        "run_id": m.run_id,
        "step_key": m.step_key,
        "status": m.status,
        "result": dumps(m.result, what=f"result of step {m.step_key!r}"),
        "failure": _dump_failure(m.failure),
        "step_attempt_id": m.step_attempt_id,
        "completed_at": m.completed_at,
    }
