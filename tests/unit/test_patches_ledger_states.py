"""The patch ledger's ten states and their only legal moves (UET §5 behaviours 31-33)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from runwright.domain.ids import new_id
from runwright.domain.patches_ledger import (
    PATCH_TRANSITIONS,
    PatchLedgerEntry,
    PatchState,
    PatchValidation,
    check_patch_transition,
)
from runwright.errors import InvalidTransition

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OK = PatchValidation(format_ok=True, scope_ok=True, constraints_ok=True)
EXPECTED = {
    "created": {"validated", "apply_failed", "quarantined", "dropped"},
    "validated": {"queued", "quarantined", "dropped"},
    "queued": {"applied", "apply_failed", "quarantined", "dropped"},
    "applied": {"verified", "apply_failed", "rolled_back", "quarantined", "dropped"},
    "apply_failed": {"queued", "quarantined", "dropped"},
    "verified": {"committed", "rolled_back", "quarantined", "dropped"},
    "quarantined": {"dropped"},
    "committed": set(),
    "rolled_back": set(),
    "dropped": set(),
}


def entry_in(state: PatchState, **changes: object) -> PatchLedgerEntry:
    """A ledger entry already in ``state``."""
    e = PatchLedgerEntry.new(ledger_id=new_id(), patch_id=new_id(), project_id="p", at=T0)
    return e.model_copy(update={"state": state, **changes})


def test_the_table_is_exactly_the_uet_table() -> None:
    """The ten states move exactly as the UET ledger says and nowhere else."""
    assert {s.value for s in PatchState} == set(EXPECTED)
    assert {
        s.value: {t.value for t in targets} for s, targets in PATCH_TRANSITIONS.items()
    } == EXPECTED


@pytest.mark.parametrize("current", list(PatchState))
@pytest.mark.parametrize("target", list(PatchState))
def test_every_move_outside_the_table_raises(current: PatchState, target: PatchState) -> None:
    """Any pair not in the table raises InvalidTransition; pairs in it are allowed."""
    if target.value in EXPECTED[current.value]:
        assert check_patch_transition(current, target) is target
    else:
        with pytest.raises(InvalidTransition):
            check_patch_transition(current, target)


def test_commit_from_applied_is_rejected() -> None:
    """Behaviour 31: a patch is committed only from verified; from applied it is refused."""
    with pytest.raises(InvalidTransition, match="applied to committed"):
        entry_in(PatchState.APPLIED).moved(PatchState.COMMITTED, T0)
    assert (
        entry_in(PatchState.VERIFIED).moved(PatchState.COMMITTED, T0).state is PatchState.COMMITTED
    )


@pytest.mark.parametrize("flag", ["format_ok", "scope_ok", "constraints_ok"])
def test_validated_needs_every_ok_flag(flag: str) -> None:
    """Behaviour 31: created→validated with any *_ok false is rejected."""
    flags = OK.model_copy(update={flag: False})
    with pytest.raises(InvalidTransition, match="must all be true"):
        entry_in(PatchState.CREATED).moved(PatchState.VALIDATED, T0, validation=flags)
    moved = entry_in(PatchState.CREATED).moved(PatchState.VALIDATED, T0, validation=OK)
    assert moved.state is PatchState.VALIDATED


def test_quarantined_is_requeued_only_with_an_override_and_a_reason() -> None:
    """Behaviour 32: re-queue of a quarantined patch without override is rejected; with an
    override it needs a reason; quarantined→dropped is fine."""
    q = entry_in(PatchState.QUARANTINED)
    with pytest.raises(InvalidTransition, match="override"):
        q.moved(PatchState.QUEUED, T0)
    with pytest.raises(InvalidTransition, match="needs a reason"):
        q.moved(PatchState.QUEUED, T0, override=True)
    assert (
        q.moved(PatchState.QUEUED, T0, "reviewed by ana", override=True).state is PatchState.QUEUED
    )
    assert q.moved(PatchState.DROPPED, T0).state is PatchState.DROPPED


@pytest.mark.parametrize(
    "terminal", [PatchState.COMMITTED, PatchState.ROLLED_BACK, PatchState.DROPPED]
)
def test_terminal_states_never_move(terminal: PatchState) -> None:
    """Behaviour 32: committed, rolled_back and dropped are terminal."""
    e = entry_in(terminal)
    assert e.is_terminal
    for target in PatchState:
        with pytest.raises(InvalidTransition):
            e.moved(target, T0, override=True, reason="x")


def test_apply_failed_requeues_until_the_attempt_limit() -> None:
    """Behaviour 33: apply_failed may re-queue below max attempts; at max it is quarantined."""
    failed = entry_in(PatchState.APPLY_FAILED)
    two = failed.model_copy(update={"apply": failed.apply.model_copy(update={"attempts": 2})})
    assert two.moved(PatchState.QUEUED, T0, max_apply_attempts=3).state is PatchState.QUEUED
    three = failed.model_copy(update={"apply": failed.apply.model_copy(update={"attempts": 3})})
    with pytest.raises(InvalidTransition, match="must be quarantined"):
        three.moved(PatchState.QUEUED, T0, max_apply_attempts=3)
    assert three.moved(PatchState.QUARANTINED, T0, "gave up").state is PatchState.QUARANTINED


def test_every_change_appends_to_state_history() -> None:
    """Each move appends (state, at, reason) to state_history; nothing is rewritten."""
    e = PatchLedgerEntry.new(ledger_id=new_id(), patch_id=new_id(), project_id="p", at=T0)
    e = e.moved(PatchState.VALIDATED, T0, "ok", validation=OK)
    e = e.moved(PatchState.QUEUED, T0, "apply 1")
    e = e.moved(PatchState.APPLIED, T0, "in worktree")
    assert [(h.state.value, h.reason) for h in e.state_history] == [
        ("created", "submitted"),
        ("validated", "ok"),
        ("queued", "apply 1"),
        ("applied", "in worktree"),
    ]
