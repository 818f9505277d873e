"""Running one durable step: memo check, write-ahead, timeout, retry, reconcile, record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from runwright.domain.events import EventKind
from runwright.domain.failures import NOT_SERIALIZABLE, STEP_TIMEOUT, WORKER_LOST, Failure
from runwright.domain.ids import new_id
from runwright.domain.reconcile import STEP_RECONCILE, Reconciled, ReconcileResult
from runwright.domain.runs import Run, StepAttempt, StepOutputs, StepResult
from runwright.domain.states import StateReason, StepState
from runwright.engine import interrupts
from runwright.engine.clock import Clock
from runwright.engine.evidence import EvidenceWriter
from runwright.engine.interrupts import Interrupt, Interrupter
from runwright.engine.steps import (
    CurrentStep,
    StepOptions,
    options_of,
    reset_current,
    set_current,
)
from runwright.errors import (
    Cancelled,
    Conflict,
    LeaseLost,
    NonRetryableError,
    StepFailed,
    StorageError,
    ValidationError,
)
from runwright.store.core import Lease, StepOutcome, SystemDatabase

log = logging.getLogger(__name__)


class DeadlineExceeded(BaseException):
    """The run's whole timebox ran out."""


class Released(BaseException):
    """The worker is stopping; hand the run back at this step boundary."""


class Suspended(BaseException):
    """Park the run (raised by the step runner; the executor parks it)."""

    def __init__(
        self,
        reason: str,
        *,
        wake_at: datetime | None = None,
        wait_for: list[str] | None = None,
        payload: dict[str, Any] | None = None,
    ):
        super().__init__(reason)
        self.reason = reason
        self.wake_at = wake_at
        self.wait_for = wait_for
        self.payload = payload or {}


class EngineFault(BaseException):
    """The store failed while recording a step; abandon this execution (the lease expires)."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


def tool_id_of(fn: Callable[..., Any]) -> str:
    """A readable id for a step function: module:qualname."""
    return f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"


class StepRunner:
    """Runs the steps of one execution of one run, under one lease."""

    def __init__(
        self,
        *,
        store: SystemDatabase,
        clock: Clock,
        run: Run,
        lease: Lease,
        worker_id: str,
        interrupter: Interrupter,
        evidence: EvidenceWriter,
        memo: dict[str, StepResult],
        open_attempts: dict[str, StepAttempt],
        attempt_counts: dict[str, int],
        reconcile_counts: dict[str, int],
    ):
        self.store = store
        self.clock = clock
        self.run = run
        self.lease = lease
        self.worker_id = worker_id
        self.interrupter = interrupter
        self.evidence = evidence
        self.memo = memo
        self.open = open_attempts
        self.attempt_counts = attempt_counts
        self.reconcile_counts = reconcile_counts
        self._seen: set[str] = set()
        self._in_step = False

    # ---- boundaries -------------------------------------------------------------------
    def check_boundary(self) -> None:
        """Raise if the run was cancelled, its lease lost, its timebox spent, or we stop."""
        requested = self.interrupter.requested
        if requested == interrupts.CANCEL:
            raise Cancelled(self.run.run_id)
        if requested == interrupts.LEASE_LOST:
            raise EngineFault(
                LeaseLost(f"lease on run {self.run.run_id} lost", run_id=self.run.run_id)
            )
        deadline = self.run.deadline_at
        if deadline is not None and self.clock.now() >= deadline:
            raise DeadlineExceeded()
        if requested == interrupts.STOP:
            raise Released()

    def claim_key(self, key: str) -> None:
        """Refuse a step key used twice in one execution (a determinism guard)."""
        if not key:
            raise ValidationError("step key must not be empty", field="key")
        if key in self._seen:
            raise ValidationError(
                f"step key {key!r} is used twice in run {self.run.run_id}",
                hint="give every step of a job its own key (e.g. f'fetch:{i}' in a loop)",
                step=key,
            )
        self._seen.add(key)

    def note(self, message: str, fields: dict[str, Any]) -> None:
        """Append a note event under the lease."""
        payload = {"message": message, **fields}
        self._record(
            self.store.append_leased_event, self.lease, EventKind.NOTE, payload, self.clock.now()
        )

    def _record(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a store write; a store failure or lost lease abandons the execution."""
        try:
            return fn(*args)
        except (StorageError, Conflict, LeaseLost) as exc:
            raise EngineFault(exc) from exc

    # ---- the step ---------------------------------------------------------------------
    def run_step(
        self,
        key: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        overrides: dict[str, Any],
    ) -> Any:
        """Run one durable step (see JobContext.step)."""
        if self._in_step:
            raise ValidationError(
                f"step {key!r} was started inside another step",
                hint="call ctx.step only from the job function, not from a step",
                step=key,
            )
        memo = self.memo.get(key)
        if memo is not None:
            self.claim_key(key)
            return self._replay(memo)
        self.check_boundary()
        self.claim_key(key)
        opts = options_of(fn).merged(**overrides)
        tool_id = opts.tool_id or tool_id_of(fn)
        interrupted = self.open.pop(key, None)
        if interrupted is not None:
            applied = self._recover(key, interrupted, opts, args, kwargs)
            if applied is not None:
                return applied.result
        return self._execute(key, fn, args, kwargs, opts, tool_id)

    def _replay(self, memo: StepResult) -> Any:
        if memo.status == "completed":
            return memo.result
        failure = memo.failure or Failure(type="StepFailed", message="step failed")
        raise StepFailed(
            f"step {memo.step_key!r} failed: {failure.message}",
            failure_type=failure.type,
            non_retryable=True,
            step=memo.step_key,
            run_id=memo.run_id,
        )

    def _new_attempt(self, key: str, tool_id: str, idempotent: bool) -> StepAttempt:
        number = self.attempt_counts.get(key, 0) + 1
        self.attempt_counts[key] = number
        self.lease.step_sequence += 1
        return StepAttempt.model_construct(  # built here from trusted values: skip validation
            step_attempt_id=new_id(),
            run_id=self.run.run_id,
            sequence=self.lease.step_sequence,
            tool_id=tool_id,
            state=StepState.RUNNING,
            started_at=self.clock.now(),
            step_key=key,
            attempt=number,
            idempotent=idempotent,
            worker_id=self.worker_id,
            outputs=StepOutputs(),
            failure=None,
            ended_at=None,
            tool_run_id=None,
            execution_request_id=None,
            prompt_id=None,
        )

    def _execute(
        self,
        key: str,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        opts: StepOptions,
        tool_id: str,
    ) -> Any:
        attempt = self._new_attempt(key, tool_id, opts.idempotent)
        begun = not opts.idempotent
        if begun:
            self._record(self.store.begin_step, self.lease, attempt, attempt.started_at)
        timeout, deadline_bound = self._effective_timeout(opts.timeout)
        current = CurrentStep(
            run_id=self.run.run_id,
            step_key=key,
            step_attempt_id=attempt.step_attempt_id,
            attach=self.evidence.attach,
        )
        token = set_current(current)
        self._in_step = True
        failure: Failure | None = None
        result: Any = None
        try:
            with self.interrupter.guard(timeout):
                result = fn(*args, **kwargs)
        except Interrupt as it:
            failure = self._interrupted(it, key, attempt, begun, current, opts, deadline_bound)
        except Exception as exc:
            failure = Failure.from_exception(exc, non_retryable=isinstance(exc, NonRetryableError))
        finally:
            self._in_step = False
            reset_current(token)
        if failure is None:
            done = attempt.model_copy(
                update={"state": StepState.COMPLETED, "ended_at": self.clock.now()}
            )
            memo = StepResult.model_construct(
                run_id=self.run.run_id,
                step_key=key,
                status="completed",
                result=result,
                failure=None,
                step_attempt_id=attempt.step_attempt_id,
                completed_at=done.ended_at or self.clock.now(),
            )
            try:
                self._record(
                    self.store.finish_step,
                    self.lease,
                    StepOutcome(
                        attempt=done, memo=memo, evidence=tuple(current.evidence), begun=begun
                    ),
                    self.clock.now(),
                )
            except ValidationError as exc:
                failure = Failure(type=NOT_SERIALIZABLE, message=exc.message, non_retryable=True)
            else:
                self.memo[key] = memo
                return result
        return self._failed(key, attempt, begun, failure, opts, current)

    def _effective_timeout(self, step_timeout: float | None) -> tuple[float | None, bool]:
        deadline = self.run.deadline_at
        if deadline is None:
            return step_timeout, False
        remaining = max((deadline - self.clock.now()).total_seconds(), 0.0)
        if step_timeout is None or remaining < step_timeout:
            return remaining, True
        return step_timeout, False

    def _interrupted(
        self,
        it: Interrupt,
        key: str,
        attempt: StepAttempt,
        begun: bool,
        current: CurrentStep,
        opts: StepOptions,
        deadline_bound: bool,
    ) -> Failure:
        cause = it.cause
        if cause == interrupts.TIMEOUT and deadline_bound:
            cause = interrupts.DEADLINE
        if cause == interrupts.LEASE_LOST:
            raise EngineFault(
                LeaseLost(
                    f"lease on run {self.run.run_id} lost during step {key!r}",
                    run_id=self.run.run_id,
                )
            )
        now = self.clock.now()
        if cause == interrupts.CANCEL:
            stopped = attempt.model_copy(update={"state": StepState.CANCELED, "ended_at": now})
            self._record(
                self.store.finish_step, self.lease, StepOutcome(attempt=stopped, begun=begun), now
            )
            raise Cancelled(self.run.run_id)
        if cause == interrupts.DEADLINE:
            failure = Failure(
                type="RunTimebox", message=f"the run's timebox ran out during step {key!r}"
            )
            stopped = attempt.model_copy(
                update={"state": StepState.ERROR, "ended_at": now, "failure": failure}
            )
            self._record(
                self.store.finish_step, self.lease, StepOutcome(attempt=stopped, begun=begun), now
            )
            raise DeadlineExceeded()
        return Failure(type=STEP_TIMEOUT, message=f"step {key!r} timed out after {opts.timeout}s")

    def _failed(
        self,
        key: str,
        attempt: StepAttempt,
        begun: bool,
        failure: Failure,
        opts: StepOptions,
        current: CurrentStep,
    ) -> Any:
        now = self.clock.now()
        errored = attempt.model_copy(
            update={"state": StepState.ERROR, "ended_at": now, "failure": failure}
        )
        if opts.retry.should_retry(
            attempt.attempt, failure.type, non_retryable=failure.non_retryable
        ):
            retry_at = now + timedelta(seconds=opts.retry.delay_after(attempt.attempt))
            self._record(
                self.store.finish_step,
                self.lease,
                StepOutcome(
                    attempt=errored,
                    begun=begun,
                    retry_at=retry_at,
                    evidence=tuple(current.evidence),
                ),
                now,
            )
            raise Suspended(StateReason.WAITING_RETRY, wake_at=retry_at, payload={"step_key": key})
        memo = StepResult(
            run_id=self.run.run_id,
            step_key=key,
            status="failed",
            failure=failure,
            step_attempt_id=attempt.step_attempt_id,
            completed_at=now,
        )
        self._record(
            self.store.finish_step,
            self.lease,
            StepOutcome(attempt=errored, memo=memo, begun=begun, evidence=tuple(current.evidence)),
            now,
        )
        self.memo[key] = memo
        return self._replay(memo)

    # ---- recovery of a step a lost worker left in flight ------------------------------
    def _recover(
        self,
        key: str,
        attempt: StepAttempt,
        opts: StepOptions,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> StepResult | None:
        """Settle an interrupted attempt; return its memo if reconcile found it applied."""
        now = self.clock.now()
        lost = Failure(type=WORKER_LOST, message="the worker running this step was lost")
        if opts.reconcile is not None:
            verdict = self._reconcile(opts.reconcile, args, kwargs)
            extra = {"reconciled": verdict.status.value}
            if verdict.status == Reconciled.APPLIED:
                done = attempt.model_copy(update={"state": StepState.COMPLETED, "ended_at": now})
                memo = StepResult(
                    run_id=self.run.run_id,
                    step_key=key,
                    status="completed",
                    result=verdict.result,
                    step_attempt_id=attempt.step_attempt_id,
                    completed_at=now,
                )
                self._record(
                    self.store.finish_step,
                    self.lease,
                    StepOutcome(attempt=done, memo=memo, begun=True, extra=extra),
                    now,
                )
                self.memo[key] = memo
                return memo
            if verdict.status == Reconciled.NOT_APPLIED:
                errored = attempt.model_copy(
                    update={"state": StepState.ERROR, "ended_at": now, "failure": lost}
                )
                self._record(
                    self.store.finish_step,
                    self.lease,
                    StepOutcome(attempt=errored, begun=True, extra=extra),
                    now,
                )
                return None
            self._reconcile_later(key, attempt)
        if opts.idempotent:
            errored = attempt.model_copy(
                update={"state": StepState.ERROR, "ended_at": now, "failure": lost}
            )
            self._record(
                self.store.finish_step,
                self.lease,
                StepOutcome(attempt=errored, begun=True, extra={"rerun": "idempotent"}),
                now,
            )
            return None
        raise Suspended(
            StateReason.PAUSED_RECONCILIATION,
            payload={
                "step_key": key,
                "step_attempt_id": attempt.step_attempt_id,
                "indeterminate": True,
                "why": "the worker was lost mid-step; the step is neither idempotent "
                "nor reconcilable",
            },
        )

    def _reconcile(
        self, fn: Callable[..., ReconcileResult], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> ReconcileResult:
        try:
            with self.interrupter.guard(STEP_RECONCILE.timeout):
                verdict = fn(*args, **kwargs)
        except Interrupt as it:
            if it.cause in {interrupts.CANCEL, interrupts.LEASE_LOST}:
                raise
            return ReconcileResult.unknown()
        except Exception:
            log.exception("reconcile raised; treating the outcome as unknown")
            return ReconcileResult.unknown()
        if not isinstance(verdict, ReconcileResult):
            log.error("reconcile returned %r, not a ReconcileResult; treating as unknown", verdict)
            return ReconcileResult.unknown()
        return verdict

    def _reconcile_later(self, key: str, attempt: StepAttempt) -> None:
        tries = self.reconcile_counts.get(attempt.step_attempt_id, 0) + 1
        payload = {
            "step_key": key,
            "step_attempt_id": attempt.step_attempt_id,
            "reconcile_attempt": tries,
        }
        if STEP_RECONCILE.exhausted(tries):
            payload["indeterminate"] = True
            payload["why"] = f"reconcile could not tell after {tries} attempts"
            raise Suspended(StateReason.PAUSED_RECONCILIATION, payload=payload)
        wake = self.clock.now() + timedelta(seconds=STEP_RECONCILE.delay(tries))
        raise Suspended(StateReason.PAUSED_RECONCILIATION, wake_at=wake, payload=payload)
