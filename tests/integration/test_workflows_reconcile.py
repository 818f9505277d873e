"""The mutation ledger and reconciliation: never guess, never repeat (keepai §10 #20-#29)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import workflows_cases as wc
from workflows_kit import Harness

from runwright.api.client import Client
from runwright.api.inbox import Inbox
from runwright.domain.states import RunState, StateReason
from runwright.domain.workflows import EventStatus, MutationStatus, ResolvedBy, RunStatus
from runwright.errors import Conflict
from runwright.workflows.errors import AuthError, UncertainError
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


def _paused(h: Harness) -> str:
    run = next(r for r in h.runs(handler="Work") if r.status is RunStatus.PAUSED_RECONCILIATION)
    return run.run_id


def test_uncertain_outcome_reconciled_as_applied_continues_to_next(h: Harness) -> None:
    """#20: a timeout after the write; reconcile says applied(r) → mutation applied with r,
    next gets r, the run commits, and nothing reaches the inbox."""
    wc.KNOBS["call"].append(("apply_then", UncertainError("read timeout")))
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    assert (m.status, m.resolved_by) == (MutationStatus.APPLIED, ResolvedBy.RECONCILIATION)
    assert m.result == {"id": "w-a"}
    result = dict(wc.SEEN["results"])["item:a"]
    assert (result.status, result.result) == (ResultStatus.APPLIED, {"id": "w-a"})
    assert h.runs(handler="Work")[-2].status is RunStatus.COMMITTED
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert h.wf.get("cases").error == ""


def test_uncertain_outcome_reconciled_as_failed_releases_for_a_fresh_run(h: Harness) -> None:
    """#21: reconcile says failed → mutation failed, events pending, error cleared; a fresh
    run makes the write again (with the same idempotency key)."""
    wc.KNOBS["call"].append(UncertainError("connection reset"))
    h.publish("a")
    h.run()
    first, second = h.mutations()
    assert first.status is MutationStatus.FAILED
    assert first.resolved_by is ResolvedBy.RECONCILIATION
    assert second.status is MutationStatus.APPLIED
    assert first.idempotency_key == second.idempotency_key
    released = next(r for r in h.runs(handler="Work") if r.status is RunStatus.RELEASED)
    assert h.client.get(released.run_id).state_reason == "released"
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert h.wf.get("cases").error == ""


def test_reconcile_retries_with_backoff_then_goes_indeterminate(h: Harness) -> None:
    """#22: reconcile keeps answering retry (or raising): once at once, then background
    attempts 10 s, 20 s, 40 s, 80 s, 160 s apart; reconcile_attempts counts every attempt,
    and after the 6th the mutation is indeterminate and in the inbox."""
    wc.KNOBS["call"].append(UncertainError("timeout"))
    wc.KNOBS["reconcile"].extend(
        ["retry", RuntimeError("lookup broke"), "retry", "retry", "retry", "retry"]
    )
    h.publish("a")
    h.run()
    run_id = _paused(h)
    (m,) = h.mutations()
    assert (m.status, m.reconcile_attempts) == (MutationStatus.NEEDS_RECONCILE, 1)
    core = h.client.get(run_id)
    assert (core.state, core.state_reason) == (RunState.WAITING, StateReason.PAUSED_RECONCILIATION)
    assert h.wf.get("cases").error
    for n, delay in enumerate((10, 20, 40, 80, 160), start=2):
        h.advance(delay - 1)
        h.run()
        assert h.wf.mutation(m.mutation_id).reconcile_attempts == n - 1
        h.advance(1)
        h.run()
        assert h.wf.mutation(m.mutation_id).reconcile_attempts == n
    assert h.wf.mutation(m.mutation_id).status is MutationStatus.INDETERMINATE
    assert len(wc.SEEN["reconciles"]) == h.wf.mutation(m.mutation_id).reconcile_attempts == 6
    items = [i for i in Inbox(h.client).items() if i.section == "mutations"]
    assert [i.item_id for i in items] == [m.mutation_id]
    assert items[0].params["params"] == {"item": "a"}
    assert {a.name for a in items[0].actions} == {"Try again", "It didn't happen", "Skip"}
    assert h.client.stranded() == []


def test_no_reconcile_method_goes_indeterminate_at_once_without_maintenance(h: Harness) -> None:
    """#23: no reconcile and an uncertain outcome → indeterminate at once; no maintenance."""
    wc.SETTINGS["tool"] = "plain"
    wc.KNOBS["plain"].append(UncertainError("webhook timed out"))
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    assert (m.status, m.can_reconcile) == (MutationStatus.INDETERMINATE, False)
    record = h.wf.get("cases")
    assert not record.maintenance
    assert record.label.value == "Needs attention"
    (item,) = [i for i in Inbox(h.client).items() if i.section == "mutations"]
    assert {a.name for a in item.actions} == {"It didn't happen", "Skip"}


def test_auth_error_from_the_call_is_reconciled_not_failed(h: Harness) -> None:
    """#25: an auth error from the mutation call is treated as uncertain and reconciled."""
    wc.KNOBS["call"].append(("apply_then", AuthError("token expired mid-call")))
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    assert (m.status, m.resolved_by) == (MutationStatus.APPLIED, ResolvedBy.RECONCILIATION)
    assert len(wc.SEEN["reconciles"]) == 1


def _indeterminate(h: Harness) -> str:
    wc.SETTINGS["tool"] = "plain"
    wc.KNOBS["plain"].append(UncertainError("timeout"))
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    assert m.status is MutationStatus.INDETERMINATE
    return m.mutation_id


def test_it_did_not_happen_releases_events_and_a_fresh_run_writes(h: Harness) -> None:
    """#26: "it didn't happen" → failed (user_assert_failed), events pending, error and
    pending retry cleared, and the next tick runs a fresh session that writes (the reference
    UI left workflow.error set, keeping the workflow blocked)."""
    mid = _indeterminate(h)
    run_id = _paused(h)
    m = h.wf.resolve(mid, "did-not-happen", by="alice")
    assert (m.status, m.resolved_by) == (MutationStatus.FAILED, ResolvedBy.USER_ASSERT_FAILED)
    assert h.events()["item:a"].status is EventStatus.PENDING
    record = h.wf.get("cases")
    assert record.error == ""
    core = h.client.get(run_id)
    assert (core.state, core.state_reason) == (RunState.FAILED, "released")
    assert any(e.payload.get("by") == "alice" for e in h.client.events(run_id))
    h.run()
    assert wc.SEEN["sent"] == ["a"]
    assert h.events()["item:a"].status is EventStatus.CONSUMED
    assert h.wf.get("cases").pending_retry_run_id is None


def test_skip_runs_next_with_skipped_and_never_delivers_again(h: Harness) -> None:
    """#27: skip → events skipped; the run executes next(skipped) and commits; those events
    are never delivered again (intended behaviour: the reference UI committed directly,
    bypassing next; the waiting run itself resumes here, no separate retry run)."""
    mid = _indeterminate(h)
    run_id = _paused(h)
    h.wf.resolve(mid, "skip")
    assert h.events()["item:a"].status is EventStatus.SKIPPED
    h.run()
    run = h.wf.run(run_id)
    assert run.status is RunStatus.COMMITTED
    assert dict(wc.SEEN["results"])["item:a"].status is ResultStatus.SKIPPED
    assert h.client.get(run_id).state is RunState.SUCCEEDED
    assert h.wf.peek("cases", "in") == []
    assert h.events()["item:a"].status is EventStatus.SKIPPED
    assert wc.SEEN["sent"] == []


def test_a_skipped_write_is_recorded_as_skipped_not_failed(h: Harness) -> None:
    """Skip settles a write in doubt as ``skipped`` (it may have happened), never ``failed``
    (which says it did not): listed under its own status, and still skipped after the run
    commits with next(skipped)."""
    mid = _indeterminate(h)
    m = h.wf.resolve(mid, "skip", by="bob")
    assert (m.status, m.resolved_by) == (MutationStatus.SKIPPED, ResolvedBy.USER_SKIP)
    h.run()
    assert h.wf.mutation(mid).status is MutationStatus.SKIPPED
    assert [x.mutation_id for x in h.wf.mutations("cases", statuses=("skipped",))] == [mid]
    assert h.wf.mutations("cases", statuses=("failed",)) == []
    assert dict(wc.SEEN["results"])["item:a"].status is ResultStatus.SKIPPED


def test_every_reconcile_attempt_is_counted_the_inline_one_too(h: Harness) -> None:
    """reconcile_attempts counts every attempt: a write in doubt settled by the inline
    attempt has 1; one settled by the first background attempt has 2."""
    wc.KNOBS["call"].append(("apply_then", UncertainError("read timeout")))
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    assert (m.status, m.reconcile_attempts) == (MutationStatus.APPLIED, 1)
    wc.KNOBS["call"].append(("apply_then", UncertainError("read timeout")))
    wc.KNOBS["reconcile"].append("retry")
    h.publish("b")
    h.run()
    h.advance(10)
    h.run()
    second = h.mutations()[-1]
    assert (second.status, second.reconcile_attempts) == (MutationStatus.APPLIED, 2)
    assert len(wc.SEEN["reconciles"]) == 3


def test_resolving_a_mutation_that_is_not_indeterminate_is_rejected(h: Harness) -> None:
    """#28: only an indeterminate mutation can be resolved."""
    h.publish("a")
    h.run()
    (m,) = h.mutations()
    with pytest.raises(Conflict, match="not indeterminate"):
        h.wf.resolve(m.mutation_id, "skip")


def test_try_again_resets_attempts_and_reconciles_again(h: Harness) -> None:
    """#29: try again → reconcile_attempts = 0, needs_reconcile, and the run reconciles now
    (attempt 1), then 10 s later (documented but missing from the reference's UI; we
    implement it)."""
    wc.KNOBS["call"].append(UncertainError("timeout"))
    wc.KNOBS["reconcile"].extend(["retry"] * 6)
    h.publish("a")
    h.run()
    for delay in (10, 20, 40, 80, 160):
        h.advance(delay)
        h.run()
    (m,) = h.mutations()
    assert (m.status, m.reconcile_attempts) == (MutationStatus.INDETERMINATE, 6)
    wc.KNOBS["reconcile"].append("retry")
    again = h.wf.resolve(m.mutation_id, "try-again")
    assert (again.status, again.reconcile_attempts) == (MutationStatus.NEEDS_RECONCILE, 0)
    h.run()
    assert h.wf.mutation(m.mutation_id).reconcile_attempts == 1
    h.advance(10)
    h.run()  # the lookup now finds nothing: the write did not happen
    assert h.wf.mutation(m.mutation_id).status is MutationStatus.FAILED


def test_try_again_is_refused_without_a_reconcile_method(h: Harness) -> None:
    """#29: try again is not offered (and refused) when the tool cannot reconcile."""
    mid = _indeterminate(h)
    with pytest.raises(Conflict, match="no reconcile"):
        h.wf.resolve(mid, "try-again")
