"""A human settles a step whose outcome is unknown: re-run it, mark it done, or fail it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from runwright.domain.events import GENESIS_HASH, EventKind
from runwright.domain.failures import WORKER_LOST, Failure
from runwright.domain.runs import Run
from runwright.domain.states import RunState, StateReason, StepState
from runwright.errors import Conflict, NotFound, ValidationError
from runwright.store.core.chain import ChainHead, NewEvent, append_locked
from runwright.store.core.lifecycle import notify_ready
from runwright.store.database import Database
from runwright.store.schema import runs, step_attempts, step_results
from runwright.store.types import dumps

RESOLVE_ACTIONS = ("rerun", "mark-done", "fail")


class ResolveOps:
    """Human resolution of indeterminate steps."""

    db: Database

    def resolve_step(
        self, run_id: str, step_key: str, action: str, now: datetime, *, by: str, result: Any = None
    ) -> Run:
        """Settle the in-doubt ``step_key`` of a run paused for reconciliation, and resume it."""
        if action not in RESOLVE_ACTIONS:
            raise ValidationError(
                f"unknown action {action!r}", hint="use rerun, mark-done or fail", field="action"
            )

        def tx(conn: Connection) -> None:
            row = conn.execute(
                select(runs).where(runs.c.run_id == run_id).with_for_update()
            ).first()
            if row is None:
                raise NotFound(f"run {run_id} not found", run_id=run_id)
            if row.state != RunState.WAITING.value or not (row.state_reason or "").startswith(
                StateReason.PAUSED_RECONCILIATION
            ):
                raise Conflict(
                    f"run {run_id} is {row.state} ({row.state_reason or 'no reason'}), "
                    "not paused for reconciliation",
                    hint="only a run whose step outcome is unknown can be resolved",
                    run_id=run_id,
                )
            attempt = conn.execute(
                select(step_attempts).where(
                    step_attempts.c.run_id == run_id,
                    step_attempts.c.step_key == step_key,
                    step_attempts.c.state == StepState.RUNNING.value,
                )
            ).first()
            if attempt is None:
                raise Conflict(
                    f"step {step_key!r} of run {run_id} is not in doubt",
                    hint="`runwright run show RUN` lists the step that needs a decision",
                    step=step_key,
                )
            done = action == "mark-done"
            failure = None
            if not done:
                failure = Failure(
                    type=WORKER_LOST if action == "rerun" else "ResolvedFailed",
                    message=f"outcome unknown; {by} chose to {action}",
                    non_retryable=action == "fail",
                )
            conn.execute(
                step_attempts.update()
                .where(step_attempts.c.step_attempt_id == attempt.step_attempt_id)
                .values(
                    state=StepState.COMPLETED.value if done else StepState.ERROR.value,
                    ended_at=now,
                    failure=None if failure is None else dumps(failure.model_dump(mode="json")),
                )
            )
            if action != "rerun":
                conn.execute(
                    step_results.insert().values(
                        run_id=run_id,
                        step_key=step_key,
                        status="completed" if done else "failed",
                        result=dumps(result, what="resolved result"),
                        failure=None if failure is None else dumps(failure.model_dump(mode="json")),
                        step_attempt_id=attempt.step_attempt_id,
                        completed_at=now,
                    )
                )
            append_locked(
                conn,
                run_id,
                [
                    NewEvent(
                        EventKind.HUMAN_ACTION,
                        {"action": f"resolve-step:{action}", "step_key": step_key, "by": by},
                        attempt.step_attempt_id,
                    )
                ],
                now,
                head=ChainHead(row.event_seq, row.last_event_hash or GENESIS_HASH),
                available_at=now,
                wake_at=None,
            )
            notify_ready(conn)

        self.db.run(tx)
        return self.get_run(run_id)  # type: ignore[attr-defined,no-any-return]
