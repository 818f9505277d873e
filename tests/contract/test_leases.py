"""Store contract: claims, leases, fencing and the step memo (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from runwright.domain.events import EventKind
from runwright.domain.ids import new_id
from runwright.domain.runs import StepAttempt
from runwright.domain.states import RunState, StepState
from runwright.errors import LeaseLost
from runwright.store.core.records import StepOutcome
from runwright.store.core.system_database import SystemDatabase
from tests.contract.helpers import T0, at, claim, complete_step, new_run


def test_claiming_starts_the_run_and_takes_a_lease(store: SystemDatabase) -> None:
    """A claim moves pending → running, records run_started, and leases it to the worker."""
    run = store.create_run(new_run(), T0)
    c = store.claim_run("w1", at(1), 30)
    assert c is not None
    assert c.run.run_id == run.run_id
    assert c.run.state is RunState.RUNNING
    assert c.run.attempt == 1
    assert c.lease.expires_at == at(31)
    kinds = [e.kind for e in store.list_events(run.run_id)]
    assert kinds == [EventKind.RUN_CREATED, EventKind.RUN_STARTED, EventKind.RUN_STATE_CHANGED]


def test_a_leased_run_cannot_be_claimed_by_another_worker(store: SystemDatabase) -> None:
    """While a lease is live nobody else gets the run."""
    store.create_run(new_run(), T0)
    claim(store, "w1")
    assert store.claim_run("w2", at(10), 30) is None


def test_an_expired_lease_is_taken_over(store: SystemDatabase) -> None:
    """After the lease expires another worker takes the run over, logged as such."""
    run = store.create_run(new_run(), T0)
    first = claim(store, "w1", T0, 30)
    c = store.claim_run("w2", at(31), 30)
    assert c is not None
    assert c.took_over_from == "w1"
    assert c.run.attempt == 2
    assert store.list_events(run.run_id)[-1].kind is EventKind.LEASE_TAKEN_OVER
    assert not store.renew_lease(first, at(32), 30).held


def test_a_worker_that_lost_its_lease_can_record_nothing(store: SystemDatabase) -> None:
    """Writes under a stale lease raise LeaseLost and change nothing (fencing)."""
    run = store.create_run(new_run(), T0)
    stale = claim(store, "w1", T0, 30)
    claim(store, "w2", at(31), 30)
    with pytest.raises(LeaseLost):
        complete_step(store, stale, "s1", 1, at(32))
    memo, *_ = store.load_progress(run.run_id)
    assert memo == {}


def test_renewing_extends_the_lease(store: SystemDatabase) -> None:
    """A renewed lease keeps other workers out past the original expiry."""
    store.create_run(new_run(), T0)
    lease = claim(store, "w1", T0, 30)
    assert store.renew_lease(lease, at(20), 30).held
    assert store.claim_run("w2", at(40), 30) is None
    assert store.claim_run("w2", at(51), 30) is not None


def test_a_completed_step_is_memoized_once(store: SystemDatabase) -> None:
    """The memo holds the result by step key; the attempt and event are recorded with it."""
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    complete_step(store, lease, "fetch", {"rows": 3})
    memo, open_attempts, counts, _ = store.load_progress(run.run_id)
    assert memo["fetch"].result == {"rows": 3}
    assert memo["fetch"].status == "completed"
    assert open_attempts == {}
    assert counts == {"fetch": 1}
    assert store.get_run(run.run_id).counters.step_attempts == 1
    assert store.list_events(run.run_id)[-1].kind is EventKind.TOOL_CALL_COMPLETED


def test_a_second_memo_for_the_same_key_is_refused(store: SystemDatabase) -> None:
    """(run_id, step_key) is unique: a step can never be recorded as done twice."""
    store.create_run(new_run(), T0)
    lease = claim(store)
    complete_step(store, lease, "once", 1)
    with pytest.raises(Exception, match="constraint"):
        complete_step(store, lease, "once", 2)


def test_a_non_idempotent_step_is_written_before_it_runs(store: SystemDatabase) -> None:
    """begin_step records the attempt as running; it shows up as open until finished."""
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    lease.step_sequence += 1
    attempt = StepAttempt(
        step_attempt_id=new_id(),
        run_id=run.run_id,
        sequence=lease.step_sequence,
        tool_id="t",
        state=StepState.RUNNING,
        started_at=T0,
        step_key="pay",
        attempt=1,
    )
    store.begin_step(lease, attempt, T0)
    _, open_attempts, _, _ = store.load_progress(run.run_id)
    assert open_attempts["pay"].step_attempt_id == attempt.step_attempt_id
    done = attempt.model_copy(update={"state": StepState.COMPLETED, "ended_at": at(1)})
    store.finish_step(lease, StepOutcome(attempt=done, begun=True), at(1))
    _, open_attempts, _, _ = store.load_progress(run.run_id)
    assert open_attempts == {}
    kinds = [e.kind for e in store.list_events(run.run_id)][-2:]
    assert kinds == [EventKind.TOOL_CALL_STARTED, EventKind.TOOL_CALL_COMPLETED]


def test_an_outside_event_during_a_lease_keeps_the_chain_whole(store: SystemDatabase) -> None:
    """A cancel request appended while a worker writes does not break the hash chain."""
    from runwright.domain.events import verify_chain

    run = store.create_run(new_run(), T0)
    lease = claim(store)
    complete_step(store, lease, "a", 1)
    store.request_cancel(run.run_id, at(1), by="x")
    complete_step(store, lease, "b", 2, at(2))
    events = store.list_events(run.run_id)
    assert verify_chain(events) == []
    assert events[-1].seq == store.get_run(run.run_id).event_seq


def test_parked_runs_wake_at_their_time(store: SystemDatabase) -> None:
    """A run parked until T+10 is not claimable before and is claimable after."""
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    store.park_run(lease, T0, reason="waiting:retry", wake_at=at(10))
    parked = store.get_run(run.run_id)
    assert parked.state is RunState.WAITING
    assert parked.lease_owner is None
    assert store.claim_run("w1", at(9), 30) is None
    again = store.claim_run("w1", at(10), 30)
    assert again is not None
    assert again.run.run_id == run.run_id
    assert again.run.attempt == 2


def test_finishing_records_result_and_frees_the_run(store: SystemDatabase) -> None:
    """finish_run stores the result and ends the lease; the run is no longer claimable."""
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    store.finish_run(lease, at(5), state=RunState.SUCCEEDED, result={"ok": True})
    done = store.get_run(run.run_id)
    assert done.state is RunState.SUCCEEDED
    assert done.result == {"ok": True}
    assert done.ended_at == at(5)
    assert done.lease_owner is None
    assert done.available_at is None
    assert store.claim_run("w1", at(100), 30) is None
    assert store.get_run(run.run_id).state is RunState.SUCCEEDED


def test_a_released_run_is_claimable_at_once(store: SystemDatabase) -> None:
    """A worker stopping cleanly hands its run back without waiting for the lease."""
    store.create_run(new_run(), T0)
    lease = claim(store, "w1")
    store.release_run(lease, at(1))
    c = store.claim_run("w2", at(1), 30)
    assert c is not None
    assert c.run.state is RunState.RUNNING
