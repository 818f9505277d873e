"""The pure workflow rules: phase, status, ledger and event tables; schedules; backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runwright.domain.reconcile import MUTATION_RECONCILE
from runwright.domain.states import RunState
from runwright.domain.workflows import (
    ErrorClass,
    EventStatus,
    HandlerType,
    HumanAction,
    InputStatus,
    MutationOutcome,
    MutationStatus,
    Op,
    Phase,
    ResolvedBy,
    RunStatus,
    Step,
    WorkflowLabel,
    check_event,
    check_mutation,
    check_phase,
    check_status,
    clamp_wake,
    core_state,
    input_status,
    is_runnable,
    op_allowed,
    parse_interval,
    plan_failure,
    resolve_action,
    transient_delay,
)
from runwright.domain.workflows.phases import disposes_as_post_mutation, path_between
from runwright.domain.workflows.rules import label
from runwright.domain.workflows.topics import is_stale
from runwright.errors import Conflict, InvalidTransition, ValidationError

NOW = datetime(2026, 1, 1, tzinfo=UTC)
C, P = HandlerType.CONSUMER, HandlerType.PRODUCER


def test_consumer_phases_only_move_forward() -> None:
    """#40: moving a phase backwards raises."""
    with pytest.raises(InvalidTransition, match="cannot move from prepared to preparing"):
        check_phase(C, Phase.PREPARED, Phase.PREPARING)


def test_prepared_to_mutating_needs_reservations() -> None:
    """#40: prepared → mutating with empty reservations raises."""
    with pytest.raises(InvalidTransition, match="at least one reserved event"):
        check_phase(C, Phase.PREPARED, Phase.MUTATING, reservations=0)
    assert check_phase(C, Phase.PREPARED, Phase.MUTATING, reservations=2) is Phase.MUTATING


def test_mutated_to_emitting_is_refused_after_a_failed_mutation() -> None:
    """#40: mutated → emitting after a failed mutation raises."""
    with pytest.raises(InvalidTransition, match="failed mutation"):
        check_phase(C, Phase.MUTATED, Phase.EMITTING, outcome=MutationOutcome.FAILURE)


def test_a_second_commit_raises() -> None:
    """#40: committed → committed (a second commit) raises."""
    with pytest.raises(InvalidTransition, match="second commit"):
        check_phase(C, Phase.COMMITTED, Phase.COMMITTED)


def test_producer_phases() -> None:
    """Producers go pending → executing → committed and nowhere else."""
    assert path_between(P, Phase.PENDING, Phase.COMMITTED) == [Phase.EXECUTING, Phase.COMMITTED]
    with pytest.raises(InvalidTransition):
        check_phase(P, Phase.PENDING, Phase.PREPARING)


@pytest.mark.parametrize(
    ("start", "reserved", "path"),
    [
        (Phase.PREPARED, 0, [Phase.EMITTING, Phase.COMMITTED]),
        (Phase.PREPARED, 1, [Phase.MUTATING, Phase.MUTATED, Phase.EMITTING, Phase.COMMITTED]),
        (Phase.MUTATED, 1, [Phase.EMITTING, Phase.COMMITTED]),
    ],
)
def test_paths_to_commit_respect_the_guards(start: Phase, reserved: int, path: list[Phase]) -> None:
    """The forward path to commit skips mutate only when nothing was reserved."""
    assert path_between(C, start, Phase.COMMITTED, reservations=reserved) == path


def test_failures_change_status_never_back_out_of_an_end() -> None:
    """A run that ended is never resumed; a paused one may resume or be released."""
    assert check_status(RunStatus.ACTIVE, RunStatus.FAILED_LOGIC) is RunStatus.FAILED_LOGIC
    assert check_status(RunStatus.PAUSED_RECONCILIATION, RunStatus.ACTIVE) is RunStatus.ACTIVE
    with pytest.raises(InvalidTransition, match="never resumed"):
        check_status(RunStatus.CRASHED, RunStatus.ACTIVE)


@pytest.mark.parametrize(
    ("status", "state", "reason"),
    [
        (RunStatus.COMMITTED, RunState.SUCCEEDED, None),
        (RunStatus.PAUSED_RECONCILIATION, RunState.WAITING, "paused:reconciliation"),
        (RunStatus.PAUSED_TRANSIENT, RunState.FAILED, "paused:transient"),
        (RunStatus.FAILED_LOGIC, RunState.FAILED, "failed:logic"),
        (RunStatus.CRASHED, RunState.FAILED, "crashed"),
        (RunStatus.CANCELED, RunState.CANCELED, "cancel_requested"),
    ],
)
def test_statuses_map_onto_core_state_and_reason(
    status: RunStatus, state: RunState, reason: str | None
) -> None:
    """Each workflow status rides on a core run state and state_reason."""
    assert core_state(status) == (state, reason)


def test_a_status_is_a_view_over_the_core_state_and_reason() -> None:
    """No two workflow statuses share a core (state, state_reason) pair, and each failed one's
    reason is the status itself."""
    pairs = {status: core_state(status) for status in RunStatus}
    assert len(set(pairs.values())) == len(RunStatus)
    for status, (state, reason) in pairs.items():
        if state is RunState.FAILED:
            assert reason == status.value


def test_only_applied_or_skipped_runs_keep_their_events() -> None:
    """Post-mutation with success or skip keeps events reserved; anything else releases."""
    assert disposes_as_post_mutation(Phase.EMITTING, MutationOutcome.SUCCESS)
    assert disposes_as_post_mutation(Phase.MUTATED, MutationOutcome.SKIPPED)
    assert not disposes_as_post_mutation(Phase.MUTATED, MutationOutcome.FAILURE)
    assert not disposes_as_post_mutation(Phase.EMITTING, MutationOutcome.NONE)
    assert not disposes_as_post_mutation(Phase.MUTATING, MutationOutcome.NONE)


def test_applied_and_failed_mutations_are_final() -> None:
    """Changing an applied, failed or skipped mutation again raises."""
    for final in (MutationStatus.APPLIED, MutationStatus.FAILED, MutationStatus.SKIPPED):
        with pytest.raises(InvalidTransition, match="final"):
            check_mutation(final, MutationStatus.NEEDS_RECONCILE)
    assert check_mutation(MutationStatus.IN_FLIGHT, MutationStatus.INDETERMINATE)


def test_human_actions_on_an_indeterminate_mutation() -> None:
    """#26, #27, #29: the three actions and what they do to the ledger row."""
    st = MutationStatus.INDETERMINATE
    again = resolve_action(st, HumanAction.TRY_AGAIN, can_reconcile=True)
    assert again.status is MutationStatus.NEEDS_RECONCILE
    no = resolve_action(st, "did-not-happen", can_reconcile=False)
    assert (no.status, no.resolved_by) == (MutationStatus.FAILED, ResolvedBy.USER_ASSERT_FAILED)
    skip = resolve_action(st, "skip", can_reconcile=False)
    assert (skip.resolved_by, skip.outcome) == (ResolvedBy.USER_SKIP, MutationOutcome.SKIPPED)


def test_a_skipped_write_has_its_own_status_not_failed() -> None:
    """Skip settles a write in doubt as ``skipped`` (it may have happened), never as
    ``failed``, which says the write did not happen."""
    skip = resolve_action(MutationStatus.INDETERMINATE, "skip", can_reconcile=True)
    assert skip.status is MutationStatus.SKIPPED
    assert check_mutation(MutationStatus.INDETERMINATE, MutationStatus.SKIPPED)
    with pytest.raises(InvalidTransition):
        check_mutation(MutationStatus.NEEDS_RECONCILE, MutationStatus.SKIPPED)


def test_resolving_anything_but_indeterminate_is_rejected() -> None:
    """#28: resolving a mutation that is not indeterminate is rejected."""
    for status in (
        MutationStatus.APPLIED,
        MutationStatus.NEEDS_RECONCILE,
        MutationStatus.IN_FLIGHT,
    ):
        with pytest.raises(Conflict, match="not indeterminate"):
            resolve_action(status, "skip", can_reconcile=True)


def test_try_again_needs_a_reconcile_method() -> None:
    """#29: try again is refused when the tool has no reconcile."""
    with pytest.raises(Conflict, match="no reconcile"):
        resolve_action(MutationStatus.INDETERMINATE, "try-again", can_reconcile=False)
    with pytest.raises(ValidationError, match="unknown action"):
        resolve_action(MutationStatus.INDETERMINATE, "undo", can_reconcile=True)


def test_event_statuses() -> None:
    """pending → reserved → consumed | skipped; reserved → pending on release; ends final."""
    assert check_event(EventStatus.RESERVED, EventStatus.PENDING) is EventStatus.PENDING
    with pytest.raises(InvalidTransition):
        check_event(EventStatus.CONSUMED, EventStatus.PENDING)
    with pytest.raises(InvalidTransition):
        check_event(EventStatus.SKIPPED, EventStatus.RESERVED)


def test_input_status_is_computed_from_its_events() -> None:
    """An input is pending with an open event or none yet, done when all closed."""
    assert input_status([]) is InputStatus.PENDING
    assert input_status(["consumed", "reserved"]) is InputStatus.PENDING
    assert input_status(["consumed", "skipped"]) is InputStatus.DONE
    assert input_status(["skipped"]) is InputStatus.SKIPPED
    assert input_status(["pending"], skipped=True) is InputStatus.SKIPPED


def test_stale_is_pending_for_more_than_seven_days() -> None:
    """#37: 8 days pending is stale; 6 days or done is not."""
    assert is_stale("pending", NOW - timedelta(days=8), NOW)
    assert not is_stale("pending", NOW - timedelta(days=6), NOW)
    assert not is_stale("done", NOW - timedelta(days=30), NOW)


def test_phase_rules_table() -> None:
    """The digest's table: reads in producer/prepare, one mutation in mutate, peek in
    prepare, publish in producer/next, register_input in producers only."""
    allowed = {(op, st) for op in Op for st in Step if op_allowed(st, op)}
    assert allowed == {
        (Op.READ, Step.PRODUCER),
        (Op.READ, Step.PREPARE),
        (Op.MUTATION, Step.MUTATE),
        (Op.PEEK, Step.PREPARE),
        (Op.PUBLISH, Step.PRODUCER),
        (Op.PUBLISH, Step.NEXT),
        (Op.REGISTER_INPUT, Step.PRODUCER),
    }


def test_wake_at_clamp() -> None:
    """#32: now + 5 s → now + 30 s; now + 3 days → now + 24 h; None stays None."""
    assert clamp_wake(NOW + timedelta(seconds=5), NOW) == NOW + timedelta(seconds=30)
    assert clamp_wake(NOW + timedelta(days=3), NOW) == NOW + timedelta(hours=24)
    assert clamp_wake(None, NOW) is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400)]
)
def test_intervals(text: str, seconds: int) -> None:
    """Intervals match ^\\d+(s|m|h|d)$."""
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["0s", "5", "1w", "5 m", "-1m"])
def test_bad_intervals_are_rejected(text: str) -> None:
    """Anything else (or zero) is refused with the field named."""
    with pytest.raises(ValidationError, match="interval"):
        parse_interval(text)


def test_backoffs_double_from_ten_seconds_up_to_ten_minutes() -> None:
    """Transient and reconcile delays: 10, 20, 40, 80… capped at 600 s."""
    assert [transient_delay(n) for n in (1, 2, 3, 4, 5, 7, 20)] == [10, 20, 40, 80, 160, 600, 600]
    assert [MUTATION_RECONCILE.delay(n) for n in (1, 2, 6, 7)] == [10, 20, 320, 600]


def test_failure_plans() -> None:
    """#15, #39: the sixth transient failure blocks; the third logic failure escalates."""
    assert plan_failure(ErrorClass.TRANSIENT, transient_failures=4, fix_count=0).retry_after == 160
    blocked = plan_failure(ErrorClass.TRANSIENT, transient_failures=5, fix_count=0)
    assert (blocked.error_kind, blocked.retry_after) == ("transient", None)
    assert plan_failure(ErrorClass.LOGIC, transient_failures=0, fix_count=1).maintenance
    esc = plan_failure(ErrorClass.LOGIC, transient_failures=0, fix_count=2)
    assert (esc.escalate, esc.maintenance, esc.fix_count) == (True, False, 0)
    assert (
        plan_failure(ErrorClass.PERMISSION, transient_failures=0, fix_count=0).error_kind
        == "approval"
    )


def test_runnable_and_labels() -> None:
    """#31: runnable ⇔ active ∧ no error ∧ not in maintenance; and the four labels."""
    assert is_runnable("active", "", False)
    assert not is_runnable("paused", "", False)
    assert not is_runnable("active", "boom", False)
    assert not is_runnable("active", "", True)
    assert label("paused", "", False, has_active_run=True) is WorkflowLabel.STOPPED
    assert label("active", "x", False, has_active_run=False) is WorkflowLabel.NEEDS_ATTENTION
    assert label("active", "", True, has_active_run=False) is WorkflowLabel.NEEDS_ATTENTION
    assert label("active", "", True, has_active_run=False, repairing=True) is WorkflowLabel.RUNNING
    assert label("active", "", False, has_active_run=False) is WorkflowLabel.IDLE
