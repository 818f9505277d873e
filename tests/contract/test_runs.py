"""Store contract: creating, reading, listing and cancelling runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from runwright.domain.events import EventKind
from runwright.domain.states import RunState
from runwright.errors import Conflict, NotFound, ValidationError
from runwright.store.core.records import RunFilter
from runwright.store.core.system_database import SystemDatabase
from tests.contract.helpers import T0, at, claim, new_run


def test_a_new_run_is_pending_ready_and_logged(store: SystemDatabase) -> None:
    """Creating a run stores it pending, claimable now, with a run_created event."""
    run = store.create_run(new_run(args=[1, "x"], kwargs={"k": True}), T0)
    assert run.state is RunState.PENDING
    assert run.available_at == T0
    assert run.args == [1, "x"]
    assert run.kwargs == {"k": True}
    events = store.list_events(run.run_id)
    assert [e.kind for e in events] == [EventKind.RUN_CREATED]
    assert run.event_seq == 1
    assert run.last_event_hash == events[0].hash


def test_the_same_idempotency_key_returns_the_first_run(store: SystemDatabase) -> None:
    """Starting twice with one idempotency key creates one run."""
    a = store.create_run(new_run(idempotency_key="order-7"), T0)
    b = store.create_run(new_run(idempotency_key="order-7"), at(1))
    assert a.run_id == b.run_id
    assert len(store.list_runs(RunFilter())) == 1


def test_unknown_run_is_not_found_with_a_hint(store: SystemDatabase) -> None:
    """Reading a run that does not exist names it and says where to look."""
    with pytest.raises(NotFound) as err:
        store.get_run("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert "run list" in (err.value.hint or "")


def test_non_json_arguments_are_refused_before_anything_is_written(store: SystemDatabase) -> None:
    """Arguments must be JSON; a set is refused with a clear error and no run is stored."""
    with pytest.raises(ValidationError, match="JSON"):
        store.create_run(new_run(args=[{1, 2}]), T0)
    assert store.list_runs(RunFilter()) == []


def test_listing_filters_and_pages_newest_first(store: SystemDatabase) -> None:
    """Runs list newest first; filters narrow; before_run_id pages through."""
    ids = [store.create_run(new_run(job_name=f"job{i % 2}"), at(i)).run_id for i in range(5)]
    listed = [r.run_id for r in store.list_runs(RunFilter())]
    assert listed == sorted(ids, reverse=True)
    assert {r.job_name for r in store.list_runs(RunFilter(job_name="job1"))} == {"job1"}
    page1 = store.list_runs(RunFilter(limit=2))
    page2 = store.list_runs(RunFilter(limit=2, before_run_id=page1[-1].run_id))
    assert [r.run_id for r in page1 + page2] == listed[:4]
    assert store.list_runs(RunFilter(search=ids[3][-8:]))[0].run_id == ids[3]


def test_counts_by_state(store: SystemDatabase) -> None:
    """count_runs_by_state groups every run by its state."""
    for _ in range(3):
        store.create_run(new_run(), T0)
    claim(store)
    assert store.count_runs_by_state() == {"pending": 2, "running": 1}


def test_get_runs_keeps_the_order_asked(store: SystemDatabase) -> None:
    """get_runs returns runs in the order of the ids given, skipping unknown ones."""
    ids = [store.create_run(new_run(), T0).run_id for _ in range(3)]
    got = store.get_runs([ids[2], "01ARZ3NDEKTSV4RRFFQ69G5FAV", ids[0]])
    assert [r.run_id for r in got] == [ids[2], ids[0]]


def test_cancelling_a_pending_run_ends_it_at_once(store: SystemDatabase) -> None:
    """A pending run is cancelled immediately, with who did it in the log."""
    run = store.create_run(new_run(), T0)
    done = store.request_cancel(run.run_id, at(1), by="alice")
    assert done.state is RunState.CANCELED
    assert done.ended_at == at(1)
    assert done.available_at is None
    last = store.list_events(run.run_id)[-1]
    assert last.kind is EventKind.RUN_STATE_CHANGED
    assert last.payload["by"] == "alice"


def test_cancelling_a_running_run_asks_its_worker(store: SystemDatabase) -> None:
    """A running run is flagged; its worker sees the flag on its next lease renewal."""
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    flagged = store.request_cancel(run.run_id, at(1), by="bob")
    assert flagged.state is RunState.RUNNING
    assert flagged.cancel_requested
    status = store.renew_lease(lease, at(2), 30)
    assert status.held
    assert status.cancel_requested


def test_cancelling_a_finished_run_is_a_conflict(store: SystemDatabase) -> None:
    """A run that already ended cannot be cancelled."""
    run = store.create_run(new_run(), T0)
    store.request_cancel(run.run_id, at(1), by="a")
    with pytest.raises(Conflict, match="already ended"):
        store.request_cancel(run.run_id, at(2), by="a")


def test_next_pointer_is_one_line_and_logged(store: SystemDatabase) -> None:
    """A next pointer is stored and logged; a multi-line one is refused."""
    run = store.create_run(new_run(), T0)
    updated = store.set_next_pointer(run.run_id, "  re-scope the export  ", at(1), by="c")
    assert updated.next_pointer == "re-scope the export"
    with pytest.raises(ValidationError):
        store.set_next_pointer(run.run_id, "a\nb", at(1), by="c")
    assert store.list_events(run.run_id)[-1].kind is EventKind.NEXT_POINTER_SET


def test_appended_events_extend_the_chain(store: SystemDatabase) -> None:
    """append_event continues the run's hash chain; unknown kinds are refused."""
    run = store.create_run(new_run(), T0)
    ev = store.append_event(run.run_id, "note", {"m": "hi"}, at(1))
    first = store.list_events(run.run_id)[0]
    assert ev.seq == 2
    assert ev.prev_hash == first.hash
    with pytest.raises(ValidationError):
        store.append_event(run.run_id, "nonsense", {}, at(1))
