"""Run and step transition tables (SPEC §2, UET behaviour 25)."""

from __future__ import annotations

import pytest

from runwright.domain.states import (
    RUN_TRANSITIONS,
    RunState,
    StepState,
    check_run_transition,
    check_step_transition,
    is_terminal,
)
from runwright.errors import InvalidTransition


def test_pending_cannot_jump_to_succeeded() -> None:
    """pending → succeeded is rejected; a run must run first."""
    with pytest.raises(InvalidTransition) as err:
        check_run_transition("pending", "succeeded", run_id="R")
    assert "pending" in str(err.value)
    assert "running" in str(err.value)


def test_pending_to_running_is_allowed() -> None:
    """pending → running is the normal start."""
    assert check_run_transition("pending", "running") is RunState.RUNNING


@pytest.mark.parametrize("target", list(RunState))
def test_nothing_leaves_succeeded(target: RunState) -> None:
    """succeeded is terminal: every move out of it is rejected."""
    with pytest.raises(InvalidTransition):
        check_run_transition(RunState.SUCCEEDED, target)


def test_failed_can_only_be_quarantined() -> None:
    """failed → quarantined is allowed; failed → running is not."""
    assert check_run_transition("failed", "quarantined") is RunState.QUARANTINED
    with pytest.raises(InvalidTransition):
        check_run_transition("failed", "running")


def test_waiting_resumes_or_ends() -> None:
    """A waiting run can run again, be cancelled or fail, but not succeed directly."""
    assert check_run_transition("waiting", "running") is RunState.RUNNING
    assert check_run_transition("waiting", "canceled") is RunState.CANCELED
    with pytest.raises(InvalidTransition):
        check_run_transition("waiting", "succeeded")


def test_terminal_states_have_no_way_out_but_quarantine() -> None:
    """Terminal states allow no transition except failed → quarantined."""
    for state in RunState:
        if is_terminal(state) and state != RunState.FAILED:
            assert RUN_TRANSITIONS[state] == frozenset()


def test_unknown_state_is_a_value_error() -> None:
    """A state name that does not exist is refused."""
    with pytest.raises(ValueError, match="bogus"):
        check_run_transition("bogus", "running")


def test_step_attempts_follow_the_schema_table() -> None:
    """Step attempts go pending → running → completed | error | canceled, and no further."""
    assert check_step_transition("pending", "running") is StepState.RUNNING
    assert check_step_transition("running", "completed") is StepState.COMPLETED
    with pytest.raises(InvalidTransition):
        check_step_transition("completed", "running")
    with pytest.raises(InvalidTransition):
        check_step_transition("pending", "completed")
