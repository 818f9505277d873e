"""Pure workflow rules: what each phase may do, when a workflow may run, schedules, backoff."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from runwright.domain.limits import MAX_INTERVAL_SECONDS
from runwright.domain.retry import RetryPolicy
from runwright.errors import ValidationError

WAKE_MIN_SECONDS = 30.0
WAKE_MAX_SECONDS = 24 * 3600.0
TRANSIENT_BASE_SECONDS = 10.0
TRANSIENT_CAP_SECONDS = 600.0
#: Transient failures in a row that still get a retry; the next one blocks the workflow.
MAX_TRANSIENT_RETRIES = 5
#: The third logic failure in a row escalates (two automatic fixes before it).
MAX_FIX_ATTEMPTS = 3
PHASE_TIMEOUT_SECONDS = 300.0
INTERVAL_PATTERN = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Step(StrEnum):
    """The four places handler code runs."""

    PRODUCER = "producer"
    PREPARE = "prepare"
    MUTATE = "mutate"
    NEXT = "next"


class Op(StrEnum):
    """What handler code asks the host to do."""

    READ = "external read"
    MUTATION = "external mutation"
    PEEK = "topic peek / get_by_ids"
    PUBLISH = "publish"
    REGISTER_INPUT = "register_input"


#: The phase rules table: which operation each step may perform (digest §2).
PHASE_RULES: dict[Op, frozenset[Step]] = {
    Op.READ: frozenset({Step.PRODUCER, Step.PREPARE}),
    Op.MUTATION: frozenset({Step.MUTATE}),
    Op.PEEK: frozenset({Step.PREPARE}),
    Op.PUBLISH: frozenset({Step.PRODUCER, Step.NEXT}),
    Op.REGISTER_INPUT: frozenset({Step.PRODUCER}),
}


def op_allowed(step: Step | str, op: Op | str) -> bool:
    """True when ``step`` may perform ``op``."""
    return Step(step) in PHASE_RULES[Op(op)]


class ErrorClass(StrEnum):
    """The host's closed set of failure classes (digest §9)."""

    TRANSIENT = "transient"
    LOGIC = "logic"
    AUTH = "auth"
    PERMISSION = "permission"
    UNCERTAIN = "uncertain"
    INTERNAL = "internal"


class WorkflowStatus(StrEnum):
    """The user-owned status of a workflow (the engine never writes it)."""

    DRAFT = "draft"
    READY = "ready"
    ACTIVE = "active"
    PAUSED = "paused"
    ARCHIVED = "archived"


class WorkflowLabel(StrEnum):
    """What a person sees."""

    RUNNING = "Running"
    IDLE = "Idle"
    NEEDS_ATTENTION = "Needs attention"
    STOPPED = "Stopped"


def is_runnable(status: WorkflowStatus | str, error: str, maintenance: bool) -> bool:
    """Runnable ⇔ status = active ∧ error = "" ∧ ¬maintenance."""
    return WorkflowStatus(status) is WorkflowStatus.ACTIVE and not error and not maintenance


def label(
    status: WorkflowStatus | str,
    error: str,
    maintenance: bool,
    *,
    has_active_run: bool,
    unresolved_mutation: bool = False,
    repairing: bool = False,
) -> WorkflowLabel:
    """Stopped (the user stopped it), Needs attention (an error, a write in doubt, or
    maintenance with nobody fixing it), Running (a run is active or a repair is under way)
    or Idle."""
    if WorkflowStatus(status) is not WorkflowStatus.ACTIVE:
        return WorkflowLabel.STOPPED
    if error or unresolved_mutation or (maintenance and not repairing):
        return WorkflowLabel.NEEDS_ATTENTION
    if has_active_run or maintenance:
        return WorkflowLabel.RUNNING
    return WorkflowLabel.IDLE


def parse_interval(every: str) -> float:
    """Seconds in an interval like ``30s``, ``5m``, ``2h`` or ``1d`` (must be above zero)."""
    m = INTERVAL_PATTERN.match(every) if isinstance(every, str) else None
    seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2)] if m and len(m.group(1)) < 12 else 0
    if not 0 < seconds <= MAX_INTERVAL_SECONDS:
        shown = repr(every) if len(repr(every)) <= 40 else repr(every)[:40] + "…"
        raise ValidationError(
            f"interval {shown} is not valid",
            hint="write a positive number and a unit: 30s, 5m, 2h or 1d (at most 366d)",
            field="every",
        )
    return float(seconds)


def clamp_wake(wake_at: datetime | None, now: datetime) -> datetime | None:
    """A consumer's ``wake_at`` clamped to [now + 30 s, now + 24 h]; None stays None."""
    if wake_at is None:
        return None
    low = now + timedelta(seconds=WAKE_MIN_SECONDS)
    high = now + timedelta(seconds=WAKE_MAX_SECONDS)
    return min(max(wake_at, low), high)


#: A run and its retries after transient failures in a row, spaced like step retries.
TRANSIENT_BACKOFF = RetryPolicy(
    max_attempts=MAX_TRANSIENT_RETRIES + 1,
    initial_interval=TRANSIENT_BASE_SECONDS,
    max_interval=TRANSIENT_CAP_SECONDS,
)


def transient_delay(failures: int) -> float:
    """Seconds to back off after transient failure number ``failures``: 10 s·2ⁿ⁻¹, ≤ 10 min."""
    return TRANSIENT_BACKOFF.delay_after(failures)


@dataclass(frozen=True, slots=True)
class FailurePlan:
    """What the workflow does after a run failed with some error class."""

    maintenance: bool = False
    escalate: bool = False
    error: str = ""
    error_kind: str = ""
    retry_after: float | None = None
    transient_failures: int = 0
    fix_count: int = 0


def plan_failure(
    error_class: ErrorClass | str, *, transient_failures: int, fix_count: int
) -> FailurePlan:
    """Decide the workflow's reaction to a failed run (counts are those before this failure).

    transient → back off 10 s·2ⁿ⁻¹ (≤ 10 min), and block after more than five in a row;
    logic → maintenance, and escalate at the third in a row; auth/permission → wait for the
    user (approval); internal → blocked.
    """
    cls = ErrorClass(error_class)
    if cls is ErrorClass.TRANSIENT:
        n = transient_failures + 1
        if n > MAX_TRANSIENT_RETRIES:
            return FailurePlan(
                error=f"{n} transient failures in a row; resume the workflow to try again",
                error_kind="transient",
                transient_failures=n,
                fix_count=fix_count,
            )
        return FailurePlan(
            retry_after=transient_delay(n), transient_failures=n, fix_count=fix_count
        )
    if cls is ErrorClass.LOGIC:
        n = fix_count + 1
        if n >= MAX_FIX_ATTEMPTS:
            return FailurePlan(
                escalate=True,
                error=f"logic failure {n} times in a row; a person must fix the workflow",
                error_kind="escalated",
                transient_failures=0,
                fix_count=0,
            )
        return FailurePlan(maintenance=True, transient_failures=0, fix_count=n)
    if cls in {ErrorClass.AUTH, ErrorClass.PERMISSION}:
        return FailurePlan(
            error="access was refused; fix the credentials or permissions, then resume",
            error_kind="approval",
            fix_count=fix_count,
        )
    return FailurePlan(
        error="internal error; see the failed run, then resume the workflow",
        error_kind="internal",
        fix_count=fix_count,
    )
