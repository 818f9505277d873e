"""Store contract: workers, stranded runs, evidence links and step resolution."""

from __future__ import annotations

import pytest

from runwright.domain.evidence import EvidenceLink
from runwright.domain.ids import new_id
from runwright.domain.runs import StepAttempt
from runwright.domain.states import RunState, StateReason, StepState
from runwright.errors import Conflict
from runwright.store.core.records import WorkerInfo
from runwright.store.core.system_database import SystemDatabase
from runwright.store.schema import runs
from tests.contract.helpers import T0, at, claim, new_run


def test_workers_are_listed_while_they_heartbeat(store: SystemDatabase) -> None:
    """A worker is alive while it heartbeats and gone once it stops."""
    store.register_worker(WorkerInfo("w1", "host", 123, T0, T0, "0.1"))
    assert [w.worker_id for w in store.list_workers(alive_since=T0)] == ["w1"]
    assert store.list_workers(alive_since=at(60)) == []
    store.heartbeat_worker("w1", at(60), None)
    assert len(store.list_workers(alive_since=at(60))) == 1
    store.stop_worker("w1", at(61))
    assert store.list_workers(alive_since=at(60)) == []


def test_a_ready_run_without_any_worker_is_reported(store: SystemDatabase) -> None:
    """A pending run nobody can pick up (no worker alive) is stranded, with a hint."""
    run = store.create_run(new_run(), T0)
    found = store.find_stranded(at(5), worker_timeout=30)
    assert [s.run_id for s in found] == [run.run_id]
    assert "runwright worker" in found[0].hint
    store.register_worker(WorkerInfo("w1", "h", 1, at(5), at(5), "0.1"))
    assert store.find_stranded(at(5), worker_timeout=30) == []


def test_a_run_waiting_on_nothing_named_is_stranded(store: SystemDatabase) -> None:
    """A waiting run with no time, no children and no named reason is reported."""
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    store.park_run(lease, T0, reason="mystery")
    store.register_worker(WorkerInfo("w1", "h", 1, T0, T0, "0.1"))
    found = store.find_stranded(T0, worker_timeout=30)
    assert [s.run_id for s in found] == [run.run_id]
    assert "nothing named" in found[0].problem


def test_runs_waiting_on_a_named_thing_are_not_stranded(store: SystemDatabase) -> None:
    """Waiting for a human, a reconcile, a timer or children counts as progress."""
    store.register_worker(WorkerInfo("w1", "h", 1, T0, T0, "0.1"))
    for reason in (StateReason.WAITING_HUMAN, StateReason.PAUSED_RECONCILIATION):
        store.create_run(new_run(), T0)
        store.park_run(claim(store), T0, reason=reason)
    store.create_run(new_run(), T0)
    store.park_run(claim(store), T0, reason=StateReason.WAITING_TIMER, wake_at=at(3600))
    assert store.find_stranded(T0, worker_timeout=30) == []


def test_a_pending_run_with_no_time_and_no_dependencies_is_stranded(store: SystemDatabase) -> None:
    """Bookkeeping that loses a run's ready time is caught by the detector."""
    run = store.create_run(new_run(), T0)
    store.db.run(
        lambda c: c.execute(
            runs.update().where(runs.c.run_id == run.run_id).values(available_at=None)
        )
    )
    store.register_worker(WorkerInfo("w1", "h", 1, T0, T0, "0.1"))
    assert [s.run_id for s in store.find_stranded(T0, worker_timeout=30)] == [run.run_id]


def test_evidence_links_round_trip(store: SystemDatabase) -> None:
    """Evidence linked to a run is listed back with its hash, size and counts."""
    run = store.create_run(new_run(), T0)
    link = EvidenceLink(
        evidence_id=new_id(),
        run_id=run.run_id,
        artifact_path="out/report.csv",
        sha256="a" * 64,
        size=10,
        media_type="text/csv",
        created_at=T0,
    )
    store.add_evidence(run.run_id, [link], T0)
    assert store.list_evidence(run.run_id) == [link]


def _in_doubt(store: SystemDatabase) -> tuple[str, str]:
    run = store.create_run(new_run(), T0)
    lease = claim(store)
    lease.step_sequence += 1
    attempt = StepAttempt(
        step_attempt_id=new_id(),
        run_id=run.run_id,
        sequence=1,
        tool_id="t",
        state=StepState.RUNNING,
        started_at=T0,
        step_key="charge",
        attempt=1,
    )
    store.begin_step(lease, attempt, T0)
    store.park_run(lease, T0, reason=StateReason.PAUSED_RECONCILIATION)
    return run.run_id, attempt.step_attempt_id


def test_marking_an_in_doubt_step_done_records_its_result_and_resumes(
    store: SystemDatabase,
) -> None:
    """A human marks an unknown step done: the memo gets the result and the run is ready."""
    run_id, _ = _in_doubt(store)
    run = store.resolve_step(run_id, "charge", "mark-done", at(1), by="ops", result={"id": 9})
    assert run.available_at == at(1)
    memo, open_attempts, *_ = store.load_progress(run_id)
    assert memo["charge"].result == {"id": 9}
    assert open_attempts == {}


def test_rerun_clears_the_doubt_without_a_memo(store: SystemDatabase) -> None:
    """Choosing re-run closes the attempt as an error and leaves no memo, so it runs again."""
    run_id, _ = _in_doubt(store)
    store.resolve_step(run_id, "charge", "rerun", at(1), by="ops")
    memo, open_attempts, *_ = store.load_progress(run_id)
    assert memo == {}
    assert open_attempts == {}


def test_only_runs_paused_for_reconciliation_can_be_resolved(store: SystemDatabase) -> None:
    """Resolving a step of a running run, or a step not in doubt, is a conflict."""
    run_id, _ = _in_doubt(store)
    with pytest.raises(Conflict, match="not in doubt"):
        store.resolve_step(run_id, "other", "rerun", at(1), by="ops")
    other = store.create_run(new_run(), T0)
    with pytest.raises(Conflict, match="not paused"):
        store.resolve_step(other.run_id, "charge", "rerun", at(1), by="ops")
    assert store.get_run(other.run_id).state is RunState.PENDING
