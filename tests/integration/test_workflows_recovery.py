"""Crash recovery in-process (the worker "dies" by an escaping BaseException; a new worker
takes over after the lease expires) on SQLite and PostgreSQL (keepai §10 #18, #19, #36)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.states import RunState, StateReason
from runwright.domain.workflows import EventStatus, MutationStatus, Phase, RunStatus


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed, first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


@pytest.mark.parametrize(
    ("hook", "phase"), [("prepare", Phase.PREPARING), ("mutate", Phase.PREPARED)]
)
def test_a_run_interrupted_before_its_write_is_crashed_and_redone(
    h: Harness, hook: str, phase: Phase
) -> None:
    """#18: restart with a run active in preparing or prepared → crashed, events pending,
    and a fresh run prepares again and commits."""
    wc.KNOBS[hook].append(wc.Crash())
    h.publish("a")
    h.run_crashing()
    stuck = h.last()
    assert (stuck.status, stuck.phase) == (RunStatus.ACTIVE, phase)
    h.restart()
    h.run()
    crashed = h.wf.run(stuck.run_id)
    assert (crashed.status, crashed.phase) == (RunStatus.CRASHED, phase)
    assert h.client.get(stuck.run_id).state_reason == StateReason.CRASHED
    fresh = next(r for r in h.runs(handler="Work") if r.retry_of == stuck.run_id)
    assert fresh.phase is not Phase.EMITTING
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert wc.ext.calls == 1


def test_a_mutation_in_flight_at_restart_enters_reconciliation(h: Harness) -> None:
    """#19: restart with a mutation in flight → run paused:reconciliation, events reserved,
    workflow error set, no other handler runs; the mutation never stays in_flight (we follow
    the intended behaviour: the reference code left it in_flight and the workflow blocked)."""
    wc.KNOBS["call"].append("crash")
    wc.KNOBS["reconcile"].append("retry")
    h.publish("a")
    h.run_crashing()
    (m,) = h.mutations()
    assert m.status is MutationStatus.IN_FLIGHT
    h.restart()
    h.run()
    m = h.wf.mutation(m.mutation_id)
    assert m.status is MutationStatus.NEEDS_RECONCILE
    run = h.wf.run(m.handler_run_id)
    assert run.status is RunStatus.PAUSED_RECONCILIATION
    core = h.client.get(run.run_id)
    assert (core.state, core.state_reason) == (RunState.WAITING, StateReason.PAUSED_RECONCILIATION)
    assert h.events()["item:a"].status is EventStatus.RESERVED
    assert h.wf.get("cases").error
    before = len(h.runs())
    h.publish("b")
    h.run()
    assert len(h.runs()) == before, "no other handler of the workflow may run"
    h.advance(10)
    h.run()  # the lookup finds nothing: failed → released → fresh runs write a and b
    assert h.wf.mutation(m.mutation_id).status is MutationStatus.FAILED
    assert {e.status for e in h.events().values()} == {EventStatus.CONSUMED}
    assert h.client.stranded() == []


def test_a_write_applied_just_before_the_crash_is_not_repeated(h: Harness) -> None:
    """The call took effect and the worker died before recording it: reconcile finds it
    applied, next runs with its result, and the external system saw one write."""
    wc.KNOBS["call"].append("apply_then_crash")
    h.publish("a")
    h.run_crashing()
    h.restart()
    h.run()
    (m,) = h.mutations()
    assert m.status is MutationStatus.APPLIED
    assert len(wc.ext.applied) == 1
    assert wc.ext.calls == 1
    assert h.events()["item:a"].status is EventStatus.CONSUMED


def test_a_crash_in_next_after_the_write_retries_at_emitting(h: Harness) -> None:
    """A crash in next after the write: the run is crashed with its events still reserved,
    and a retry at emitting commits without calling the tool again."""
    wc.KNOBS["next"].append(wc.Crash())
    h.publish("a")
    h.run_crashing()
    h.restart()
    h.run()
    crashed = next(r for r in h.runs(handler="Work") if r.status is RunStatus.CRASHED)
    retry = next(r for r in h.runs(handler="Work") if r.retry_of == crashed.run_id)
    assert retry.status is RunStatus.COMMITTED
    assert wc.ext.calls == 1
    assert h.events()["item:a"].status is EventStatus.CONSUMED


def test_deploy_and_restart_run_due_producers_and_prepare_every_consumer_once(h: Harness) -> None:
    """#36: on deploy the producer (due now) runs and every consumer prepares once; on a
    restart every consumer prepares once more although no event arrived."""
    assert len(h.runs(handler="feed")) == 1
    assert len(wc.SEEN["peeked"]) == 1
    h.restart(after=1)
    h.run()
    assert len(wc.SEEN["peeked"]) == 2
    assert len(h.runs(handler="feed")) == 1, "the producer is not due again before 1h"
    h.run()
    assert len(wc.SEEN["peeked"]) == 2, "the same worker does not re-dirty consumers"


def test_a_handler_run_whose_core_run_was_cancelled_by_hand_is_settled(h: Harness) -> None:
    """A person cancels the core run of a consumer run before any worker took it: the cancel
    closes the handler run as canceled in the same transaction (it no longer holds the
    workflow) and a new run handles the event."""
    from runwright.store.workflows.store import WorkflowStore

    h.publish("a")
    ws = WorkflowStore(h.client.store.db)
    run_id = ws.start_next("cases", h.client.clock.now())
    assert run_id is not None
    h.client.cancel(run_id)
    assert ws.anomalies() == []
    assert h.wf.run(run_id).status is RunStatus.CANCELED
    h.run()
    settled = h.wf.run(run_id)
    assert settled.status is RunStatus.CANCELED
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert h.last().status is RunStatus.COMMITTED
