"""Consumers end to end on SQLite and PostgreSQL: prepare → mutate → next → commit (keepai §10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.states import RunState
from runwright.domain.workflows import EventStatus, MutationStatus, Phase, RunStatus
from runwright.workflows.prepared import ResultStatus


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """A harness with the 'cases' workflow deployed and its first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def test_success_consumes_events_saves_state_and_commits_at_once(h: Harness) -> None:
    """#12: success → events consumed, state saved, run committed; next got applied(result)."""
    h.publish("a")
    h.run()
    run = h.runs(handler="Work")[-2]
    assert (run.phase, run.status) == (Phase.COMMITTED, RunStatus.COMMITTED)
    assert run.reservations[0].ids == ["item:a"]
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    results = dict(wc.SEEN["results"])
    assert results["item:a"].status is ResultStatus.APPLIED
    assert results["item:a"].result == {"id": "w-a"}
    state = {s.handler: s.state for s in h.wf.states("cases")}
    assert state["Work"] == {"done": len(wc.SEEN["next"])}
    assert h.client.get(run.run_id).state is RunState.SUCCEEDED


def test_mutation_call_is_terminal_one_call_one_ledger_row(h: Harness) -> None:
    """#9: mutate calls the mutator then more code → one external call, one ledger row, and
    the code after the call never runs."""
    h.publish("a")
    h.run()
    assert wc.ext.calls == 1
    rows = h.mutations()
    assert len(rows) == 1
    assert rows[0].status is MutationStatus.APPLIED
    assert wc.SEEN["after_call"] == []


def test_empty_reservations_commit_without_mutation_and_clear_dirty(h: Harness) -> None:
    """#10: prepare reserves nothing → no mutation row, no event changes, run committed and
    the consumer no longer dirty; we follow the documented behaviour: next gets 'none'."""
    wc.SEEN["next"].clear()
    h.wf.store.mark_consumers_dirty(h.client.clock.now())
    h.run()
    run = h.last()
    assert run.status is RunStatus.COMMITTED
    assert h.mutations() == []
    assert [r.status for r in wc.SEEN["next"]] == [ResultStatus.NONE]
    assert not {s.handler: s.dirty for s in h.wf.states("cases")}["Work"]


def test_mutate_without_a_call_gives_none_and_consumes(h: Harness) -> None:
    """#13: mutate makes no mutator call → next receives none; the events are consumed on
    commit and no ledger row exists."""
    wc.SETTINGS["tool"] = "none"
    h.publish("a")
    h.run()
    assert dict(wc.SEEN["results"])["item:a"].status is ResultStatus.NONE
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert h.mutations() == []
    assert wc.ext.calls == 0


def test_next_publish_inherits_caused_by_from_reserved_events(client: Client) -> None:
    """#6: a publish from next gets the union of caused_by over the run's reserved events."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.chain)
    harness.publish("a", "b", workflow="chain")
    harness.run()
    ins = harness.events("chain", "in")
    out = harness.events("chain", "out")
    assert set(out) == {"relayed:item:a", "relayed:item:b"}
    union = sorted({i for e in ins.values() for i in e.caused_by})
    assert all(e.caused_by == union for e in out.values())
    assert all(e.status is EventStatus.CONSUMED for e in [*ins.values(), *out.values()])


def test_a_committed_run_that_reserved_events_prepares_again(h: Harness) -> None:
    """#34: after a commit that reserved events the consumer stays dirty and prepares again,
    until a prepare reserves nothing (a backlog drains without new triggers)."""
    h.publish("a", "b", "c")
    h.run()
    assert all(e.status is EventStatus.CONSUMED for e in h.events().values())
    assert wc.SEEN["peeked"][-4:] == [["item:a"], ["item:b"], ["item:c"], []]
