"""Failures classified by type: backoff, approval, maintenance, escalation (keepai §10)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.domain.states import RunState, StateReason
from runwright.domain.workflows import EventStatus, MutationStatus, Phase, RunStatus
from runwright.store.workflows.sched import REPAIR_JOB
from runwright.workflows.errors import (
    InternalError,
    LogicError,
    PermissionDenied,
    TransientError,
)
from runwright.workflows.prepared import ResultStatus


@pytest.fixture
def h(client: Client) -> Iterator[Harness]:
    """'cases' deployed, first runs done."""
    wc.reset()
    harness = Harness(client)
    harness.deploy(wc.cases)
    harness.run()
    yield harness
    wc.reset()


def _failed(h: Harness) -> list:
    return [r for r in h.runs(handler="Work") if r.status is not RunStatus.COMMITTED]


def test_transient_error_in_prepare_backs_off_then_a_linked_fresh_run(h: Harness) -> None:
    """#14: a network error in prepare → paused:transient in preparing, events stay pending,
    and only after ≥10 s a fresh run (linked by retry_of) prepares again."""
    wc.KNOBS["prepare"].append(TransientError("network down"))
    h.publish("a")
    h.run()
    failed = _failed(h)[0]
    assert (failed.status, failed.phase) == (RunStatus.PAUSED_TRANSIENT, Phase.PREPARING)
    assert h.client.get(failed.run_id).state_reason == StateReason.PAUSED_TRANSIENT
    assert h.events()["item:a"].status is EventStatus.PENDING
    h.advance(9)
    h.run()
    assert h.last().run_id == failed.run_id
    h.advance(1)
    h.run()
    retry = next(r for r in h.runs(handler="Work") if r.retry_of == failed.run_id)
    assert retry.status is RunStatus.COMMITTED
    assert h.events()["item:a"].status is EventStatus.CONSUMED


def test_released_events_count_their_attempts(h: Harness) -> None:
    """#14 (attempt + 1): events a failed run had reserved go back to pending with their
    attempt number raised (here the failure is in mutate, before the call)."""
    wc.KNOBS["mutate"].append(TransientError("flaky"))
    h.publish("a")
    h.run()
    event = h.events()["item:a"]
    assert (event.status, event.attempt_number) == (EventStatus.PENDING, 2)


def test_more_than_five_transient_failures_block_until_resume(h: Harness) -> None:
    """#15: backoff 10, 20, 40, 80, 160 s; the sixth transient failure in a row sets the
    workflow error, clears the pending retry (a pre-mutation one; after an applied write we keep
    it, or its reserved events would be orphaned) and nothing runs until the user resumes."""
    wc.KNOBS["prepare"].extend(TransientError("down") for _ in range(6))
    h.publish("a")
    h.run()
    for delay in (10, 20, 40, 80, 160):
        before = len(h.runs(handler="Work"))
        h.advance(delay - 1)
        h.run()
        assert len(h.runs(handler="Work")) == before, f"ran before its {delay}s backoff"
        h.advance(1)
        h.run()
        assert len(h.runs(handler="Work")) == before + 1
    record = h.wf.get("cases")
    assert record.error
    assert record.error_kind == "transient"
    assert record.pending_retry_run_id is None
    assert record.label.value == "Needs attention"
    count = len(h.runs(handler="Work"))
    h.advance(3600)
    h.run()
    assert len(h.runs(handler="Work")) == count
    h.wf.resume("cases")
    h.run()
    assert h.events()["item:a"].status is EventStatus.CONSUMED


def test_logic_error_in_next_after_the_write_retries_at_emitting_without_a_second_call(
    h: Harness,
) -> None:
    """#16: mutation applied, then next raises a logic error → events stay reserved, the run
    is the pending retry, maintenance on. After the fix (a redeploy) a new run starts at
    emitting with the copied results: no second external call, events consumed."""
    wc.KNOBS["next"].append(LogicError("bug in next"))
    h.publish("a")
    h.run()
    failed = _failed(h)[0]
    assert (failed.status, failed.phase) == (RunStatus.FAILED_LOGIC, Phase.EMITTING)
    record = h.wf.get("cases")
    assert record.maintenance
    assert record.pending_retry_run_id == failed.run_id
    assert h.events()["item:a"].status is EventStatus.RESERVED
    h.run()
    assert h.last().run_id == failed.run_id, "maintenance must stop new runs"
    h.deploy(wc.cases)  # the fix
    h.run()
    retry = next(r for r in h.runs(handler="Work") if r.retry_of == failed.run_id)
    assert retry.status is RunStatus.COMMITTED
    assert retry.prepare_result == failed.prepare_result
    assert wc.ext.calls == 1
    assert len(h.mutations()) == 1
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    results = [r for ids, r in wc.SEEN["results"] if ids == "item:a"]
    assert [r.status for r in results] == [ResultStatus.APPLIED, ResultStatus.APPLIED]
    assert results[1].result == {"id": "w-a"}


def test_transient_error_in_next_after_the_write_retries_at_emitting(h: Harness) -> None:
    """#17: a transient error in next after the mutation was applied → after the backoff the
    retry starts at emitting, not preparing (prepare is not called again for it)."""
    wc.KNOBS["next"].append(TransientError("timeout"))
    h.publish("a")
    h.run()
    failed = _failed(h)[0]
    assert failed.status is RunStatus.PAUSED_TRANSIENT
    prepares = len(wc.SEEN["peeked"])
    h.advance(10)
    h.run()
    retry = next(r for r in h.runs(handler="Work") if r.retry_of == failed.run_id)
    assert retry.status is RunStatus.COMMITTED
    assert wc.SEEN["peeked"][prepares] == [], "the retry itself did not prepare"
    assert wc.ext.calls == 1


@pytest.mark.parametrize(
    ("error", "status", "blocked"),
    [
        (LogicError("bad input"), RunStatus.FAILED_LOGIC, False),
        (PermissionDenied("403"), RunStatus.PAUSED_APPROVAL, True),
    ],
    ids=["logic", "permission"],
)
def test_logic_or_permission_error_from_the_call_fails_without_reconcile(
    h: Harness, error: Exception, status: RunStatus, blocked: bool
) -> None:
    """#24: a logic or permission error from the mutation call → mutation failed with no
    reconciliation, events released, run status set by the error class. We follow the intended
    behaviour (the reference ended such runs failed:internal at the mutated→emitting guard)."""
    wc.KNOBS["call"].append(error)
    h.publish("a")
    h.run()
    run = _failed(h)[0]
    assert run.status is status
    assert h.client.get(run.run_id).state_reason == status.value
    (m,) = h.mutations()
    assert m.status is MutationStatus.FAILED
    assert m.reconcile_attempts == 0
    assert wc.SEEN["reconciles"] == []
    event = h.events()["item:a"]
    assert (event.status, event.attempt_number) == (EventStatus.PENDING, 2)
    assert bool(h.wf.get("cases").error) is blocked


def test_internal_error_blocks_the_workflow(h: Harness) -> None:
    """An internal error in prepare → failed:internal and the workflow is blocked."""
    wc.KNOBS["prepare"].append(InternalError("api key missing"))
    h.publish("a")
    h.run()
    run = _failed(h)[0]
    assert run.status is RunStatus.FAILED_INTERNAL
    record = h.wf.get("cases")
    assert record.error_kind == "internal"
    assert h.client.get(run.run_id).state is RunState.FAILED


def test_third_logic_failure_in_a_row_escalates(h: Harness) -> None:
    """#39: two logic failures enter maintenance (fix attempts 1, 2); the third escalates:
    error set, maintenance cleared, fix count reset, no repair run started."""
    wc.KNOBS["prepare"].extend(LogicError(f"bug {i}") for i in range(3))
    h.publish("a")
    for attempt in (1, 2):
        h.run()
        record = h.wf.get("cases")
        assert record.maintenance
        assert record.maintenance_fix_count == attempt
        h.deploy(wc.cases)  # a "fix" that does not fix it
    h.run()
    record = h.wf.get("cases")
    assert record.error_kind == "escalated"
    assert not record.maintenance
    assert record.maintenance_fix_count == 0
    assert h.client.list_runs(job_name=REPAIR_JOB) == []
    last = _failed(h)[-1]
    assert h.client.get(last.run_id).state_reason == StateReason.ESCALATED
    kinds = [e.kind.value for e in h.client.events(last.run_id)]
    assert "escalation_raised" in kinds


def test_a_committed_run_resets_the_failure_counters(h: Harness) -> None:
    """A success resets the transient and fix counters."""
    wc.KNOBS["prepare"].append(TransientError("once"))
    h.publish("a")
    h.run()
    assert h.wf.get("cases").transient_failures == 1
    h.advance(10)
    h.run()
    assert h.wf.get("cases").transient_failures == 0


def test_a_stale_lease_lost_signal_retries_the_phase_instead_of_abandoning(h: Harness) -> None:
    """A lease-lost interrupt while the database still names this worker (a heartbeat that
    raced with the previous run's end) does not abandon the run: the interrupted phase ends
    paused:transient and a new run redoes it after the backoff."""
    wc.KNOBS["prepare"].append(lambda ctx: h.worker.interrupter.request("lease_lost"))
    h.publish("a")
    h.run()
    failed = _failed(h)[0]
    assert (failed.status, failed.error_type) == (RunStatus.PAUSED_TRANSIENT, "Interrupted")
    h.advance(10)
    h.run()
    assert h.events()["item:a"].status is EventStatus.CONSUMED


def test_blocking_after_the_write_keeps_the_retry_and_its_reservations(h: Harness) -> None:
    """#15 (our deviation): when repeated transient failures in next block the workflow after
    the write was applied, the pending retry is kept (the reference cleared it and orphaned the
    reserved events); after resume the retry runs next at emitting, with no second call."""
    wc.KNOBS["next"].extend(TransientError("down") for _ in range(6))
    h.publish("a")
    h.run()
    for delay in (10, 20, 40, 80, 160):
        h.advance(delay)
        h.run()
    record = h.wf.get("cases")
    assert record.error_kind == "transient"
    assert record.pending_retry_run_id is not None
    assert h.events()["item:a"].status is EventStatus.RESERVED
    assert h.wf.store.orphaned_reservations() == []
    h.wf.resume("cases")
    h.run()
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert wc.ext.calls == 1
