"""Small builders shared by the contract tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from runwright.domain.ids import new_id
from runwright.domain.runs import StepAttempt, StepResult
from runwright.domain.states import StepState
from runwright.store.core.records import Lease, NewRun, StepOutcome
from runwright.store.core.system_database import SystemDatabase

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def new_run(**kw: Any) -> NewRun:
    """A NewRun of a dummy job in project 'p'."""
    kw.setdefault("job_name", "tests:job")
    kw.setdefault("project_id", "p")
    return NewRun(**kw)


def claim(
    store: SystemDatabase, worker: str = "w1", now: datetime = T0, lease: float = 30
) -> Lease:
    """Claim the next run or fail the test."""
    c = store.claim_run(worker, now, lease)
    assert c is not None, "expected a claimable run"
    return c.lease


def complete_step(
    store: SystemDatabase, lease: Lease, key: str, result: Any, now: datetime = T0
) -> StepAttempt:
    """Record an idempotent step that completed with ``result``."""
    lease.step_sequence += 1
    attempt = StepAttempt(
        step_attempt_id=new_id(),
        run_id=lease.run_id,
        sequence=lease.step_sequence,
        tool_id="tests:step",
        state=StepState.COMPLETED,
        started_at=now,
        ended_at=now,
        step_key=key,
        attempt=1,
        idempotent=True,
    )
    memo = StepResult(
        run_id=lease.run_id,
        step_key=key,
        status="completed",
        result=result,
        step_attempt_id=attempt.step_attempt_id,
        completed_at=now,
    )
    store.finish_step(lease, StepOutcome(attempt=attempt, memo=memo), now)
    return attempt
