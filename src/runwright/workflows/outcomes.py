"""How handler runs end at the core level, and the mapping of errors onto run statuses."""

from __future__ import annotations

import json
import traceback
from typing import Any

from runwright.domain.workflows.phases import Phase, RunStatus
from runwright.domain.workflows.rules import ErrorClass, Step
from runwright.engine import interrupts
from runwright.engine.interrupts import Interrupt
from runwright.errors import StepFailed
from runwright.store.workflows import Ending
from runwright.workflows.errors import classify

#: Where each step's failure leaves the run's phase.
STEP_PHASE = {
    Step.PRODUCER: Phase.EXECUTING,
    Step.PREPARE: Phase.PREPARING,
    Step.MUTATE: Phase.MUTATING,
    Step.NEXT: Phase.EMITTING,
}

CLASS_STATUS = {
    ErrorClass.TRANSIENT: RunStatus.PAUSED_TRANSIENT,
    ErrorClass.UNCERTAIN: RunStatus.PAUSED_TRANSIENT,
    ErrorClass.LOGIC: RunStatus.FAILED_LOGIC,
    ErrorClass.AUTH: RunStatus.PAUSED_APPROVAL,
    ErrorClass.PERMISSION: RunStatus.PAUSED_APPROVAL,
    ErrorClass.INTERNAL: RunStatus.FAILED_INTERNAL,
}


class HandlerRunEnded(StepFailed):
    """A handler run ended without committing; its core run fails with this status.

    ``reason`` becomes the core run's ``state_reason``: the executor records it in the
    transaction that fails the run (``RunwrightError.state_reason``).
    """

    code = "handler_run_ended"

    def __init__(self, status: str, reason: str, message: str, **fields: Any):
        super().__init__(
            message or status, failure_type=status, non_retryable=True, status=status, **fields
        )
        self.status = status
        self.state_reason = reason


def ending_for(exc: BaseException, step: Step, *, timeout: float | None = None) -> Ending:
    """The Ending of a run whose handler code raised ``exc`` during ``step``."""
    phase = STEP_PHASE[step]
    if isinstance(exc, Interrupt):
        if exc.cause == interrupts.CANCEL:
            return Ending(RunStatus.CANCELED, phase, error="cancelled", error_type="Cancelled")
        return Ending(
            RunStatus.PAUSED_TRANSIENT,
            phase,
            error=f"{step} ran longer than its {timeout or 0:g}s timeout",
            error_type="PhaseTimeout",
            error_class=ErrorClass.TRANSIENT,
        )
    cls = classify(exc)
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return Ending(
        CLASS_STATUS[cls],
        phase,
        error=f"{type(exc).__name__}: {exc}"[:4000],
        error_type=type(exc).__name__,
        error_class=cls,
        stack=stack[-4000:],
    )


def jsonable(value: Any) -> Any:
    """``value`` if it is JSON, else its repr (an applied result is never lost)."""
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return {"repr": repr(value)[:4000]}
    return value
