"""Scheduling on the fake clock: one active run per workflow, wake_at, producers (keepai §10)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.workflows import EventStatus, RunStatus
from runwright.errors import Conflict
from runwright.workflows.errors import LogicError, TransientError


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed, first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def test_one_active_run_per_workflow_and_triggers_coalesce(h: Harness) -> None:
    """#30: while a run is active no second one starts (a due producer or a new event waits);
    the triggers coalesce into runs that start afterwards."""
    now = h.client.clock.now()
    h.wf.run_now("cases")
    first = h.wf.store.start_next("cases", now)
    assert first is not None
    h.publish("a", "b")
    assert h.wf.store.start_next("cases", now) is None
    assert h.wf.store.due_workflows(now) == []
    with pytest.raises(Conflict, match="in progress"):
        h.wf.run_now("cases")
    h.run()
    assert h.wf.run(first).status is RunStatus.COMMITTED
    assert {e.status for e in h.events().values()} == {EventStatus.CONSUMED}
    created = [r.created_at for r in h.runs()]
    assert created == sorted(created)


@pytest.mark.parametrize("how", ["paused", "error", "maintenance"])
def test_a_stopped_workflow_starts_nothing_and_refuses_run_now(h: Harness, how: str) -> None:
    """#31: paused, or error set, or in maintenance → no run starts and run-now is refused."""
    if how == "paused":
        h.wf.pause("cases")
    elif how == "error":
        wc.KNOBS["prepare"].extend(TransientError("x") for _ in range(6))
        h.publish("z")
        for delay in (0, 10, 20, 40, 80, 160):
            h.advance(delay)
            h.run()
        assert h.wf.get("cases").error
    else:
        wc.KNOBS["prepare"].append(LogicError("bug"))
        h.publish("z")
        h.run()
        assert h.wf.get("cases").maintenance
    count = len(h.runs())
    h.publish("a")
    h.advance(7200)
    h.run()
    assert len(h.runs()) == count
    with pytest.raises(Conflict, match="cannot run now"):
        h.wf.run_now("cases")
    h.wf.resume("cases")
    h.run()
    assert len(h.runs()) > count


@pytest.mark.parametrize(("asked", "stored"), [(5, 30), (3 * 86400, 86400), (600, 600)])
def test_wake_at_is_clamped_to_30s_24h(h: Harness, asked: int, stored: int) -> None:
    """#32: wake_at now+5 s is stored as now+30 s, now+3 days as now+24 h."""
    now = h.client.clock.now()
    wc.SETTINGS["wake_at"] = now + timedelta(seconds=asked)
    h.wf.store.mark_consumers_dirty(now)
    h.run()
    state = {s.handler: s for s in h.wf.states("cases")}["Work"]
    assert state.wake_at == now + timedelta(seconds=stored)


def test_wake_at_runs_prepare_again_without_new_events(h: Harness) -> None:
    """A due wake_at makes the consumer prepare again (even with nothing pending); it is not
    sticky: a prepare that returns none clears it."""
    now = h.client.clock.now()
    wc.SETTINGS["wake_at"] = now + timedelta(seconds=60)
    h.wf.store.mark_consumers_dirty(now)
    h.run()
    prepares = len(wc.SEEN["peeked"])
    del wc.SETTINGS["wake_at"]
    h.advance(59)
    h.run()
    assert len(wc.SEEN["peeked"]) == prepares
    h.advance(1)
    h.run()
    assert len(wc.SEEN["peeked"]) == prepares + 1
    h.advance(86400)
    h.run()
    assert len(wc.SEEN["peeked"]) == prepares + 1


def test_an_idle_consumer_sleeps_until_a_publish(h: Harness) -> None:
    """#33: the last prepare reserved nothing and returned no wake_at → the consumer never
    runs, however long we wait; a publish to its topic wakes it."""
    prepares = len(wc.SEEN["peeked"])
    h.advance(10 * 86400)
    h.run()
    assert len(wc.SEEN["peeked"]) == prepares
    h.publish("a")
    h.run()
    assert wc.SEEN["peeked"][prepares] == ["item:a"]


def test_producer_failure_keeps_state_and_schedule_success_moves_both(h: Harness) -> None:
    """#35: a throwing producer leaves its state and next_run_at unchanged; a success saves
    the state and sets next_run_at = now + interval in the same commit."""

    def feed_state() -> tuple[object, object]:
        st = {s.handler: s for s in h.wf.states("cases")}["feed"]
        return st.state, st.next_run_at

    state0, next0 = feed_state()
    assert state0 == {"runs": 1}
    assert next0 == h.client.clock.now() + timedelta(hours=1)
    wc.KNOBS["producer"].append(LogicError("broken feed"))
    h.advance(3600)
    h.run()
    assert h.last("feed").status is RunStatus.FAILED_LOGIC
    assert feed_state() == (state0, next0)
    h.deploy(wc.cases)
    h.run()
    now = h.client.clock.now()
    assert feed_state() == ({"runs": 2}, now + timedelta(hours=1))


def test_cron_producer_runs_on_its_schedule(client: Client) -> None:
    """A cron producer runs at deploy, then at each hour boundary (croniter)."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.hourly)
    harness.run()
    assert len(wc.SEEN["ticks"]) == 1
    harness.advance(59 * 60)
    harness.run()
    assert len(wc.SEEN["ticks"]) == 1
    harness.advance(60)
    harness.run()
    assert len(wc.SEEN["ticks"]) == 2
    assert wc.SEEN["ticks"][-1].minute == 0
