"""Run and step states and their pure transition tables (SPEC §2, UET run_record/step_attempt).

The store persists decisions made here; it never decides a transition itself.
"""

from __future__ import annotations

from enum import StrEnum

from runwright.errors import InvalidTransition


class RunState(StrEnum):
    """Where a run is in its life."""

    PENDING = "pending"
    RUNNING = "running"
    WAITING = "waiting"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    CANCELED = "canceled"


RUN_TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    RunState.PENDING: frozenset({RunState.RUNNING, RunState.WAITING, RunState.CANCELED}),
    RunState.RUNNING: frozenset(
        {
            RunState.SUCCEEDED,
            RunState.FAILED,
            RunState.QUARANTINED,
            RunState.CANCELED,
            RunState.WAITING,
        }
    ),
    RunState.WAITING: frozenset({RunState.RUNNING, RunState.CANCELED, RunState.FAILED}),
    RunState.FAILED: frozenset({RunState.QUARANTINED}),
    RunState.SUCCEEDED: frozenset(),
    RunState.QUARANTINED: frozenset(),
    RunState.CANCELED: frozenset(),
}

TERMINAL_RUN_STATES = frozenset(
    {RunState.SUCCEEDED, RunState.FAILED, RunState.QUARANTINED, RunState.CANCELED}
)
ACTIVE_RUN_STATES = frozenset({RunState.PENDING, RunState.RUNNING, RunState.WAITING})


def check_run_transition(
    current: RunState | str, target: RunState | str, *, run_id: str = ""
) -> RunState:
    """Return ``target`` as a RunState if ``current → target`` is allowed, else raise."""
    cur, nxt = RunState(current), RunState(target)
    if nxt not in RUN_TRANSITIONS[cur]:
        allowed = ", ".join(sorted(RUN_TRANSITIONS[cur])) or "nothing (terminal)"
        raise InvalidTransition(
            f"run cannot move from {cur} to {nxt}",
            hint=f"from {cur} a run may move to: {allowed}",
            run_id=run_id or None,
            current=str(cur),
            target=str(nxt),
        )
    return nxt


def is_terminal(state: RunState | str) -> bool:
    """True for states a run never leaves (failed may still be quarantined)."""
    return RunState(state) in TERMINAL_RUN_STATES


class StepState(StrEnum):
    """Where a step attempt is (UET step_attempt schema)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    CANCELED = "canceled"


STEP_TRANSITIONS: dict[StepState, frozenset[StepState]] = {
    StepState.PENDING: frozenset({StepState.RUNNING, StepState.CANCELED}),
    StepState.RUNNING: frozenset({StepState.COMPLETED, StepState.ERROR, StepState.CANCELED}),
    StepState.COMPLETED: frozenset(),
    StepState.ERROR: frozenset(),
    StepState.CANCELED: frozenset(),
}


def check_step_transition(
    current: StepState | str, target: StepState | str, *, step: str = ""
) -> StepState:
    """Return ``target`` as a StepState if ``current → target`` is allowed, else raise."""
    cur, nxt = StepState(current), StepState(target)
    if nxt not in STEP_TRANSITIONS[cur]:
        raise InvalidTransition(
            f"step attempt cannot move from {cur} to {nxt}",
            step=step or None,
            current=str(cur),
            target=str(nxt),
        )
    return nxt


class StateReason:
    """Well-known ``state_reason`` values; the workflow statuses ride here (SPEC §2)."""

    PAUSED_TRANSIENT = "paused:transient"
    PAUSED_APPROVAL = "paused:approval"
    PAUSED_RECONCILIATION = "paused:reconciliation"
    FAILED_LOGIC = "failed:logic"
    FAILED_INTERNAL = "failed:internal"
    CRASHED = "crashed"
    ESCALATED = "escalated"
    WAITING_CHILDREN = "waiting:children"
    WAITING_DEPENDENCIES = "waiting:dependencies"
    WAITING_TIMER = "waiting:timer"
    WAITING_RETRY = "waiting:retry"
    WAITING_HUMAN = "waiting:human"
    DEPENDENCY_FAILED = "dependency_failed"
    CANCEL_REQUESTED = "cancel_requested"
    OVER_TIMEBOX = "over_timebox"
