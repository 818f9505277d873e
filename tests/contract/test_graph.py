"""Store contract: dependencies, children, max_parallel and cascades (SQLite and PostgreSQL)."""

from __future__ import annotations

from runwright.domain.states import RunState, StateReason
from runwright.store.core.system_database import SystemDatabase
from tests.contract.helpers import T0, at, claim, new_run


def test_a_dependent_run_waits_until_its_dependency_succeeds(store: SystemDatabase) -> None:
    """A run with an unfinished dependency is not claimable; it is released on success."""
    a = store.create_run(new_run(), T0)
    b = store.create_run(new_run(depends_on=(a.run_id,)), T0)
    assert b.state_reason == StateReason.WAITING_DEPENDENCIES
    assert b.available_at is None
    lease = claim(store)
    assert lease.run_id == a.run_id
    assert store.claim_run("w2", T0, 30) is None
    store.finish_run(lease, at(1), state=RunState.SUCCEEDED)
    assert store.get_run(b.run_id).available_at == at(1)
    assert claim(store, "w2", at(1)).run_id == b.run_id


def test_a_failed_dependency_cancels_its_dependents_transitively(store: SystemDatabase) -> None:
    """When a run fails, runs that depend on it (and on them) are cancelled with the reason."""
    a = store.create_run(new_run(), T0)
    b = store.create_run(new_run(depends_on=(a.run_id,)), T0)
    c = store.create_run(new_run(depends_on=(b.run_id,)), T0)
    store.finish_run(claim(store), at(1), state=RunState.FAILED)
    for r in (b, c):
        got = store.get_run(r.run_id)
        assert got.state is RunState.CANCELED
        assert (got.state_reason or "").startswith(StateReason.DEPENDENCY_FAILED)


def test_depending_on_an_already_failed_run_cancels_at_creation(store: SystemDatabase) -> None:
    """A run created after its dependency failed is cancelled straight away."""
    a = store.create_run(new_run(), T0)
    store.request_cancel(a.run_id, T0, by="x")
    b = store.create_run(new_run(depends_on=(a.run_id,)), at(1))
    assert b.state is RunState.CANCELED


def _parent_with_children(
    store: SystemDatabase, n: int, max_parallel: int | None
) -> tuple[str, list[str]]:
    parent = store.create_run(new_run(max_parallel=max_parallel), T0)
    lease = claim(store, "pw")
    specs = [new_run(parent_run_id=parent.run_id) for _ in range(n)]
    ids = store.start_children(lease, "kids", specs, T0)
    store.park_run(lease, T0, reason=StateReason.WAITING_CHILDREN, wait_for=ids)
    return parent.run_id, ids


def test_max_parallel_bounds_running_children(store: SystemDatabase) -> None:
    """With max_parallel=2 only two children run at once; a finished one frees a slot."""
    _parent, _ids = _parent_with_children(store, 4, 2)
    l1, l2 = claim(store, "a"), claim(store, "b")
    assert store.claim_run("c", T0, 30) is None
    store.finish_run(l1, at(1), state=RunState.SUCCEEDED)
    l3 = claim(store, "c", at(1))
    assert l3.run_id not in {l1.run_id, l2.run_id}


def test_the_parent_wakes_when_its_last_child_ends(store: SystemDatabase) -> None:
    """A parent waiting on children becomes claimable only after every child ended."""
    parent, _ids = _parent_with_children(store, 2, None)
    first, second = claim(store, "a"), claim(store, "b")
    store.finish_run(first, at(1), state=RunState.SUCCEEDED)
    assert store.get_run(parent).available_at is None
    store.finish_run(second, at(2), state=RunState.FAILED)
    assert store.get_run(parent).available_at == at(2)
    assert claim(store, "p", at(2)).run_id == parent


def test_parking_on_children_that_already_ended_does_not_strand(store: SystemDatabase) -> None:
    """If every awaited child ended before the parent parked, the parent is ready at once."""
    parent = store.create_run(new_run(), T0)
    lease = claim(store, "pw")
    ids = store.start_children(lease, "k", [new_run(parent_run_id=parent.run_id)], T0)
    child = store.claim_run("cw", T0, 30)
    assert child is not None
    store.finish_run(child.lease, at(1), state=RunState.SUCCEEDED)
    store.park_run(lease, at(2), reason=StateReason.WAITING_CHILDREN, wait_for=ids)
    assert store.get_run(parent.run_id).available_at == at(2)


def test_cancelling_a_parent_cancels_its_children(store: SystemDatabase) -> None:
    """Cancel spreads down: waiting children end, running ones are asked to stop."""
    parent, ids = _parent_with_children(store, 2, None)
    running = claim(store, "a")
    store.request_cancel(parent, at(1), by="x")
    states = {r.run_id: r for r in store.get_runs(ids)}
    other = next(i for i in ids if i != running.run_id)
    assert states[other].state is RunState.CANCELED
    assert states[running.run_id].cancel_requested
    assert store.get_run(parent).state is RunState.CANCELED


def test_children_started_under_a_step_key_are_memoized(store: SystemDatabase) -> None:
    """start_children records the child ids as the step's result (exactly once)."""
    parent, ids = _parent_with_children(store, 3, None)
    memo, *_ = store.load_progress(parent)
    assert memo["kids"].result == ids
    assert {r.parent_run_id for r in store.get_runs(ids)} == {parent}


def test_finishing_a_run_can_claim_the_next_in_the_same_transaction(store: SystemDatabase) -> None:
    """finish_run(claim_next=…) ends the run and leases the worker's next one; a dependent
    released by that very finish is eligible at once."""
    from runwright.store.core.records import ClaimRequest

    a = store.create_run(new_run(), T0)
    b = store.create_run(new_run(depends_on=(a.run_id,)), T0)
    lease = claim(store, "w")
    nxt = store.finish_run(lease, at(1), state=RunState.SUCCEEDED, claim_next=ClaimRequest("w", 30))
    assert nxt is not None
    assert nxt.run.run_id == b.run_id
    assert nxt.lease.worker_id == "w"
    assert store.get_run(a.run_id).state is RunState.SUCCEEDED
    assert store.get_run(b.run_id).state is RunState.RUNNING
    assert (
        store.finish_run(
            nxt.lease, at(2), state=RunState.SUCCEEDED, claim_next=ClaimRequest("w", 30)
        )
        is None
    )
