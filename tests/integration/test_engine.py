"""The durable engine end to end, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import engine_jobs as jobs
import pytest

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.states import RunState, StateReason, StepState
from runwright.engine.clock import FakeClock
from runwright.store.core.records import NewRun


def _drain(client: Client) -> None:
    client.worker(register=False).run(until_idle=True)


def test_a_completed_step_is_never_executed_again_after_a_crash(
    client: Client, clock: FakeClock, tmp_path: Path
) -> None:
    """A worker dies in step three; the next one skips the memoized steps one and two."""
    log, flag = tmp_path / "log", tmp_path / "flag"
    flag.touch()
    run = client.start(jobs.three_steps, str(log), str(flag))
    with pytest.raises(jobs.SimulatedCrash):
        _drain(client)
    assert client.get(run.run_id).state is RunState.RUNNING
    clock.advance(client.settings.lease_seconds + 1)
    _drain(client)
    done = client.get(run.run_id)
    assert done.state is RunState.SUCCEEDED
    assert done.result == ["one", "two", "three"]
    assert jobs.lines(str(log)) == ["one", "two", "three", "three"]
    kinds = [e.kind for e in client.events(run.run_id)]
    assert EventKind.LEASE_TAKEN_OVER in kinds


def test_an_interrupted_step_with_no_reconcile_waits_for_a_human(
    client: Client, clock: FakeClock, tmp_path: Path
) -> None:
    """A non-idempotent step cut off mid-call is never re-run blindly: the run pauses for a
    human, who marks it done; the run then finishes without calling the step again."""
    log, flag = tmp_path / "log", tmp_path / "flag"
    flag.touch()
    run = client.start(jobs.charge_job, str(log), str(flag), "none")
    with pytest.raises(jobs.SimulatedCrash):
        _drain(client)
    clock.advance(client.settings.lease_seconds + 1)
    _drain(client)
    paused = client.get(run.run_id)
    assert paused.state is RunState.WAITING
    assert paused.state_reason == StateReason.PAUSED_RECONCILIATION
    assert client.stranded() == [] or all(s.run_id != run.run_id for s in client.stranded())
    client.resolve_step(run.run_id, "charge", "mark-done", result="done:by-hand", by="ops")
    _drain(client)
    done = client.get(run.run_id)
    assert done.state is RunState.SUCCEEDED
    assert done.result == "done:by-hand"
    assert jobs.lines(str(log)) == ["charged"]


@pytest.mark.parametrize(("mode", "expected_lines"), [("applied", 1), ("crash-before", 1)])
def test_reconcile_decides_whether_an_interrupted_step_runs_again(
    client: Client, clock: FakeClock, tmp_path: Path, mode: str, expected_lines: int
) -> None:
    """Reconcile finds the effect (applied → not re-run) or its absence (→ run once more)."""
    log, flag = tmp_path / "log", tmp_path / "flag"
    flag.touch()
    run = client.start(jobs.charge_job, str(log), str(flag), mode)
    with pytest.raises(jobs.SimulatedCrash):
        _drain(client)
    clock.advance(client.settings.lease_seconds + 1)
    _drain(client)
    done = client.get(run.run_id)
    assert done.state is RunState.SUCCEEDED
    assert jobs.lines(str(log)) == ["charged"] * expected_lines
    if mode == "applied":
        assert done.result == "reconciled:charged"
    else:
        assert done.result == "done:charged"


def test_an_undecidable_reconcile_backs_off_then_asks_a_human(
    client: Client, clock: FakeClock, tmp_path: Path
) -> None:
    """Reconcile answering 'unknown' is retried at 10 s, 20 s, 40 s, 80 s; the 5th time the
    step is indeterminate and the run waits with no timer."""
    log, flag = tmp_path / "log", tmp_path / "flag"
    flag.touch()
    run = client.start(jobs.charge_job, str(log), str(flag), "unknown")
    with pytest.raises(jobs.SimulatedCrash):
        _drain(client)
    clock.advance(client.settings.lease_seconds + 1)
    delays = []
    for _ in range(5):
        _drain(client)
        r = client.get(run.run_id)
        assert r.state is RunState.WAITING
        assert r.state_reason == StateReason.PAUSED_RECONCILIATION
        if r.wake_at is None:
            break
        delays.append((r.wake_at - clock.now()).total_seconds())
        clock.set(r.wake_at)
    assert delays == [10, 20, 40, 80]
    assert client.get(run.run_id).available_at is None
    kinds = [e.kind for e in client.events(run.run_id)]
    assert kinds.count(EventKind.RECONCILE_ATTEMPTED) == 5


def test_retries_back_off_exponentially_then_succeed(
    client: Client, clock: FakeClock, tmp_path: Path
) -> None:
    """A step failing twice waits 1 s then 2 s before its 3rd attempt, which succeeds."""
    log = tmp_path / "log"
    run = client.start(jobs.flaky_job, str(log), 2)
    waits = []
    for _ in range(3):
        _drain(client)
        r = client.get(run.run_id)
        if r.state is RunState.SUCCEEDED:
            break
        assert r.state_reason == StateReason.WAITING_RETRY
        assert r.available_at is not None
        waits.append((r.available_at - clock.now()).total_seconds())
        clock.set(r.available_at)
    assert waits == [1, 2]
    assert client.get(run.run_id).result == "finally"
    attempts = [(s.attempt, s.state) for s in client.steps(run.run_id)]
    assert attempts == [(1, StepState.ERROR), (2, StepState.ERROR), (3, StepState.COMPLETED)]


@pytest.mark.parametrize(
    ("kind", "failure_type"), [("nonretryable", "NonRetryableError"), ("keyerror", "KeyError")]
)
def test_non_retryable_errors_fail_the_step_at_once(
    client: Client, kind: str, failure_type: str
) -> None:
    """NonRetryableError, or a type listed in the policy, gets exactly one attempt."""
    run = client.start(jobs.fatal_job, kind)
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.failure is not None
    assert r.failure.type == failure_type
    assert len(client.steps(run.run_id)) == 1


def test_a_final_step_failure_is_replayed_not_rerun(
    client: Client, clock: FakeClock, tmp_path: Path
) -> None:
    """A job that catches a failed step sees the same failure on replay without re-running it."""
    log = tmp_path / "log"
    run = client.start(jobs.handles_failure, str(log))
    _drain(client)
    assert client.get(run.run_id).result == "handled NonRetryableError"
    assert jobs.lines(str(log)) == ["bad ran", "after"]


def test_a_step_over_its_timeout_is_stopped_and_retried(client: Client, tmp_path: Path) -> None:
    """A step sleeping past its timeout is interrupted (its code after the sleep never runs),
    retried per its policy, then the run fails with StepTimeout."""
    log = tmp_path / "log"
    run = client.start(jobs.slow_job, str(log), 30.0, 0.2)
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.failure is not None
    assert r.failure.type == "StepTimeout"
    assert [s.failure.type for s in client.steps(run.run_id) if s.failure] == ["StepTimeout"] * 2
    assert not log.exists()


def test_the_run_timebox_stops_a_long_step(client: Client, tmp_path: Path) -> None:
    """A run past its own timeout fails as over its timebox, mid-step."""
    log = tmp_path / "log"
    run = client.start(jobs.deadline_job, str(log))
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.state_reason == StateReason.OVER_TIMEBOX
    assert not log.exists()


def test_cancelling_a_running_run_interrupts_its_step(client: Client, tmp_path: Path) -> None:
    """Cancel reaches a step blocked in a long sleep through the worker's heartbeat."""
    log = tmp_path / "log"
    run = client.start(jobs.slow_job, str(log), 60.0, None)
    worker = client.worker(register=False, lease_seconds=0.6)
    threading.Timer(0.3, client.cancel, args=(run.run_id,)).start()
    started = time.monotonic()
    worker.run(until_idle=True)
    r = client.get(run.run_id)
    assert r.state is RunState.CANCELED
    assert time.monotonic() - started < 30
    assert client.steps(run.run_id)[-1].state is StepState.CANCELED
    assert not log.exists()


def test_a_dag_runs_layer_by_layer_and_collects_results(client: Client, tmp_path: Path) -> None:
    """Children start only after the whole previous layer succeeded; the parent gets all results."""
    log = tmp_path / "log"
    run = client.start(jobs.dag_job, str(log), 3, 4)
    for _ in range(50):
        _drain(client)
        if client.get(run.run_id).state is RunState.SUCCEEDED:
            break
    r = client.get(run.run_id)
    assert r.state is RunState.SUCCEEDED
    assert r.result == [f"L{layer}-{k}" for layer in range(3) for k in range(4)]
    order = [int(line[1]) for line in jobs.lines(str(log))]
    assert order == sorted(order)
    assert len(client.children(run.run_id)) == 12


def test_a_failed_child_fails_the_parent_and_cancels_what_depended_on_it(
    client: Client, tmp_path: Path
) -> None:
    """One child of layer 0 fails: layer 1 is cancelled and the parent fails with ChildFailed."""
    log = tmp_path / "log"
    run = client.start(jobs.dag_job, str(log), 2, 2, "L0-1")
    for _ in range(50):
        _drain(client)
        if client.get(run.run_id).state not in {
            RunState.PENDING,
            RunState.RUNNING,
            RunState.WAITING,
        }:
            break
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.failure is not None
    assert r.failure.type == "ValueError"
    states = sorted(c.state.value for c in client.children(run.run_id))
    assert states == ["canceled", "canceled", "failed", "succeeded"]


def test_a_durable_sleep_parks_the_run_until_its_time(client: Client, clock: FakeClock) -> None:
    """ctx.sleep frees the worker; the run resumes only once the clock reaches the wake time."""
    run = client.start(jobs.sleeper, 3600)
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.WAITING
    assert r.state_reason == StateReason.WAITING_TIMER
    clock.advance(3599)
    _drain(client)
    assert client.get(run.run_id).state is RunState.WAITING
    clock.advance(1)
    _drain(client)
    assert client.get(run.run_id).result == "rested"


def test_a_run_of_a_job_the_worker_does_not_know_stays_pending(client: Client) -> None:
    """A run naming a job this worker has not registered, whose module it cannot import, is
    never claimed (it is not failed): it stays pending for a worker that knows the job."""
    run = client.store.create_run(
        NewRun(job_name="nowhere:missing", job_module="nowhere_at_all", project_id="p"),
        client.clock.now(),
    )
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.PENDING
    assert r.attempt == 0
    assert r.failure is None


def test_a_worker_learns_a_job_by_importing_the_module_its_run_names(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose job is not registered yet names its module: the worker imports it once,
    learns the job and runs it."""
    (tmp_path / "learned_later.py").write_text(
        "from runwright import job\n\n"
        "@job(name='tests.learned_later')\n"
        "def learned(ctx):\n"
        "    return 'learned'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    run = client.store.create_run(
        NewRun(job_name="tests.learned_later", job_module="learned_later", project_id="p"),
        client.clock.now(),
    )
    _drain(client)
    assert client.get(run.run_id).result == "learned"


def test_a_result_that_is_not_json_fails_the_run(client: Client) -> None:
    """Payloads are JSON, never pickle: a set as result fails the run, saying so."""
    run = client.start(jobs.bad_result)
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.failure is not None
    assert r.failure.type == "NotSerializable"
    assert "JSON" in r.failure.message


def test_a_step_key_used_twice_fails_the_run(client: Client, tmp_path: Path) -> None:
    """Reusing a step key in one job is caught (it would break replay)."""
    run = client.start(jobs.dup_keys, str(tmp_path / "log"))
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.failure is not None
    assert "used twice" in r.failure.message


def test_evidence_is_stored_linked_and_verifiable(client: Client, tmp_path: Path) -> None:
    """Evidence attached in a step links to that attempt; the manifest and chain verify;
    removing a blob is reported."""
    run = client.start(jobs.evidence_job, str(tmp_path))
    _drain(client)
    r = client.get(run.run_id)
    assert r.state is RunState.SUCCEEDED
    assert r.manifest_path
    links = {link.label or link.artifact_path: link for link in client.evidence(run.run_id)}
    step = next(s for s in client.steps(run.run_id) if s.step_key == "write")
    assert links["table"].step_attempt_id == step.step_attempt_id
    assert links["table"].counts.rows == 2
    assert links["table"].counts.lines == 3
    assert client.verify(run.run_id).ok
    client.blobs.path_for(links["note.txt"].sha256).unlink()
    report = client.verify(run.run_id)
    assert not report.ok
    assert report.problems[0].problem == "blob missing"


def test_a_stopping_worker_hands_the_run_back_between_steps(client: Client, tmp_path: Path) -> None:
    """Stop lets the current step finish, releases the run, and another worker continues."""
    log = tmp_path / "log"
    run = client.start(jobs.stop_midway, str(log))
    first = client.worker(register=False)
    jobs.STOP_HOOK["worker"] = first
    first.run()
    r = client.get(run.run_id)
    assert r.state is RunState.RUNNING
    assert r.lease_owner is None
    _drain(client)
    assert client.get(run.run_id).result == "both"
    assert jobs.lines(str(log)) == ["first", "second"]


def test_waiting_on_a_run_that_is_not_a_child_is_refused(client: Client, tmp_path: Path) -> None:
    """ctx.wait only accepts the run's own children, so a parent can never wait forever."""
    other = client.start(jobs.sleeper, 1)
    run = client.start(jobs.waits_on_stranger, other.run_id)
    client.worker(register=False).run(until_idle=True)
    r = client.get(run.run_id)
    assert r.state is RunState.FAILED
    assert r.failure is not None
    assert "not a child" in r.failure.message


def test_a_worker_can_run_again_after_it_returned(client: Client, tmp_path: Path) -> None:
    """A worker that drained the queue picks up new work when run again."""
    worker = client.worker(register=False)
    first = client.start(jobs.three_steps, str(tmp_path / "a"), str(tmp_path / "none"))
    worker.run(until_idle=True)
    second = client.start(jobs.three_steps, str(tmp_path / "b"), str(tmp_path / "none"))
    worker.run(until_idle=True)
    assert client.get(first.run_id).state is RunState.SUCCEEDED
    assert client.get(second.run_id).state is RunState.SUCCEEDED
    assert worker.stats.claimed == 2


def test_tickers_run_between_claims_and_a_failing_one_is_contained(client: Client) -> None:
    """A worker calls its tickers every loop; one that raises does not stop the worker."""
    calls: list[str] = []

    def good() -> bool:
        calls.append("good")
        return False

    def bad() -> bool:
        calls.append("bad")
        raise RuntimeError("broken ticker")

    worker = client.worker(register=False, tickers=[bad, good])
    worker.run(until_idle=True)
    assert calls == ["bad", "good"]


def test_a_late_heartbeat_answer_never_reaches_the_next_run(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If a run ends (and the next begins) while its lease renewal is in flight, the
    renewal's 'lease lost' answer is dropped instead of interrupting the new run."""
    from runwright.store.core.records import Lease, LeaseStatus

    worker = client.worker(register=False)
    now = client.clock.now()
    first = Lease(
        run_id="A" * 26,
        worker_id=worker.worker_id,
        attempt=1,
        expires_at=now,
        event_seq=1,
        last_event_hash="0" * 64,
    )
    second = Lease(
        run_id="B" * 26,
        worker_id=worker.worker_id,
        attempt=1,
        expires_at=now,
        event_seq=1,
        last_event_hash="0" * 64,
    )

    def renew(lease: Lease, at: object, seconds: float) -> LeaseStatus:
        worker._lease = second  # the main thread moved on meanwhile
        return LeaseStatus(held=False)

    monkeypatch.setattr(worker.store, "renew_lease", renew)
    worker._lease = first
    worker.heartbeat()
    assert worker.interrupter.requested is None
    worker._lease = first
    monkeypatch.setattr(
        worker.store, "renew_lease", lambda lease, at, seconds: LeaseStatus(held=False)
    )
    worker.heartbeat()
    assert worker.interrupter.requested == "lease_lost"


def test_a_finisher_commits_with_the_run_s_end_or_not_at_all(client: Client) -> None:
    """A job's finisher runs in the transaction that records the run's success: its event
    lands just before the final state change and the chain still verifies. A finisher that
    raises leaves nothing of that transaction behind, and the run fails with its error as if
    the job had raised it."""
    ok = client.start(jobs.finishes_with, False)
    bad = client.start(jobs.finishes_with, True)
    _drain(client)
    done = client.get(ok.run_id)
    assert (done.state, done.result) == (RunState.SUCCEEDED, "done")
    events = client.events(ok.run_id)
    assert [e.kind for e in events[-2:]] == [EventKind.NOTE, EventKind.RUN_STATE_CHANGED]
    assert events[-2].payload == {"message": "finisher"}
    assert client.verify(ok.run_id).ok
    failed = client.get(bad.run_id)
    assert failed.state is RunState.FAILED
    assert failed.failure is not None
    assert failed.failure.type == "ValueError"
    assert failed.result is None
    assert EventKind.NOTE not in [e.kind for e in client.events(bad.run_id)]
    assert client.verify(bad.run_id).ok


def test_a_busy_worker_ticks_on_an_interval_and_whenever_it_is_idle(
    client: Client, tmp_path: Path
) -> None:
    """Tickers run when the worker starts and each time nothing is claimable; while runs
    keep coming they run at most once per ``tick_seconds``, not before every claim (with
    ``tick_seconds=0`` they do run before every claim)."""
    calls: list[int] = []

    def tick() -> bool:
        calls.append(1)
        return False

    for i in range(5):
        client.start(jobs.leaf, str(tmp_path / "log"), f"r{i}")
    busy = client.worker(register=False, tickers=[tick], tick_seconds=3600)
    assert busy.run(until_idle=True).claimed == 5
    assert len(calls) == 2  # on starting, and when nothing was left
    calls.clear()
    for i in range(3):
        client.start(jobs.leaf, str(tmp_path / "log"), f"s{i}")
    eager = client.worker(register=False, tickers=[tick], tick_seconds=0)
    assert eager.run(until_idle=True).claimed == 3
    assert len(calls) == 4  # before each claim, and before finding nothing
