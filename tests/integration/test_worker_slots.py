"""A worker running several runs at once (``runs_at_once``): the runs really overlap, each
has its own lease, heartbeat and cancellation, and the worker's limits and stop still hold."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import slot_jobs

from runwright.api.client import Client
from runwright.domain.states import RunState
from runwright.engine.worker import MAX_RUNS_AT_ONCE, Worker, WorkerStats, default_runs_at_once


def _until(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class _Background:
    """A worker's run() in a thread of its own, for tests that act while runs are in flight."""

    def __init__(self, worker: Worker, **options: object):
        self.worker = worker
        self.stats: WorkerStats | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._main, kwargs=options, daemon=True)
        self.thread.start()

    def _main(self, **options: object) -> None:
        try:
            self.stats = self.worker.run(**options)  # type: ignore[arg-type]
        except BaseException as exc:
            self.error = exc

    def join(self) -> WorkerStats:
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), "the worker did not return"
        assert self.error is None, self.error
        assert self.stats is not None
        return self.stats


def test_runs_at_once_really_overlap(real_client: Client, tmp_path: Path) -> None:
    """With runs_at_once=4, four runs whose first step waits until four runs are inside it
    all meet there: the worker ran them at the same time, each on a thread of its own."""
    folder = str(tmp_path)
    ids = [real_client.start(slot_jobs.meet, folder, f"r{i}", 4).run_id for i in range(4)]
    stats = real_client.worker(register=False, runs_at_once=4).run(until_idle=True)
    assert [real_client.get(i).result for i in ids] == ["met"] * 4
    assert stats.claimed == 4
    assert stats.finished == {"succeeded": 4}
    threads = {line.split()[3] for line in slot_jobs.lines(f"{folder}/spans")}
    assert len(threads) == 4


def _idle(worker: Worker) -> bool:
    """Every slot asleep with no look-again pending (twice, a tenth of a second apart)."""
    for _ in range(2):
        if worker._idle != worker.runs_at_once or worker._permits:
            return False
        time.sleep(0.1)
    return True


def test_a_new_run_sends_one_idle_slot_to_claim_not_all_of_them(
    real_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four idle slots and one run enqueued (its commit wakes the worker): one slot claims it
    and relays to one more at most; the slots do not all race for the run at once."""
    worker = real_client.worker(register=False, runs_at_once=4, poll_seconds=60, tick_seconds=60)
    claim_run = real_client.store.claim_run
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def counted(*args: object, **kwargs: object) -> object:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        try:
            time.sleep(0.05)  # a slow claim: slots racing for the run would overlap here
            return claim_run(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            with lock:
                in_flight[0] -= 1

    background = _Background(worker)
    try:
        _until(lambda: _idle(worker), "every slot idle")
        monkeypatch.setattr(real_client.store, "claim_run", counted)
        run = real_client.start(slot_jobs.meet, str(tmp_path), "r0", 1)
        _until(lambda: real_client.get(run.run_id).state is RunState.SUCCEEDED, "the run")
        _until(lambda: _idle(worker), "every slot idle again")
    finally:
        worker.stop()
        background.join()
    assert 1 <= most[0] <= 2


def test_runs_enqueued_to_an_idle_worker_still_spread_over_its_slots(
    real_client: Client, tmp_path: Path
) -> None:
    """Four runs enqueued while every slot sleeps, and one wake-up: the relay sends a slot
    per claimed run, so the four runs, each waiting for the four to meet, all meet."""
    worker = real_client.worker(register=False, runs_at_once=4, poll_seconds=60, tick_seconds=60)
    background = _Background(worker)
    try:
        _until(lambda: _idle(worker), "every slot idle")
        folder = str(tmp_path)
        ids = [real_client.start(slot_jobs.meet, folder, f"r{i}", 4).run_id for i in range(4)]
        worker.wake()
        _until(lambda: all(real_client.get(i).state is RunState.SUCCEEDED for i in ids), "the runs")
    finally:
        worker.stop()
        background.join()
    assert [real_client.get(i).result for i in ids] == ["met"] * 4


def test_each_run_in_flight_holds_its_own_lease_and_heartbeats_renew_each(
    real_client: Client, tmp_path: Path
) -> None:
    """Three runs in flight in one worker each hold a lease owned by the worker; one
    heartbeat renews all three, and the worker's record names one of them as current."""
    folder, go = str(tmp_path), tmp_path / "go"
    ids = [real_client.start(slot_jobs.meet, folder, f"r{i}", 3, str(go)).run_id for i in range(3)]
    worker = real_client.worker(runs_at_once=3)
    bg = _Background(worker, until_idle=True)
    try:
        _until(lambda: len(slot_jobs.arrived(folder)) == 3, "three runs in flight")
        store = real_client.store
        before = {h.run_id: h for h in store.held_leases(real_client.clock.now())}
        assert set(before) == set(ids)
        assert {h.owner for h in before.values()} == {worker.worker_id}
        _, flying = worker.snapshot()
        assert {f.run_id for f in flying} == set(ids)
        time.sleep(0.05)
        worker.heartbeat()
        after = {h.run_id: h for h in store.held_leases(real_client.clock.now())}
        assert all(after[i].expires_at > before[i].expires_at for i in ids)
        (record,) = [w for w in store.list_workers() if w.worker_id == worker.worker_id]
        assert record.current_run_id in ids
    finally:
        go.touch()
    stats = bg.join()
    assert stats.finished == {"succeeded": 3}
    assert worker.snapshot()[1] == []


def test_cancelling_one_run_in_flight_stops_that_run_only(
    real_client: Client, tmp_path: Path
) -> None:
    """A cancel request reaches the slot running that run (through the heartbeat), while the
    other runs in the same worker carry on and succeed."""
    folder, go = str(tmp_path), tmp_path / "go"
    ids = [real_client.start(slot_jobs.meet, folder, f"r{i}", 3, str(go)).run_id for i in range(3)]
    worker = real_client.worker(register=False, runs_at_once=3)
    bg = _Background(worker, until_idle=True)
    try:
        _until(lambda: len(slot_jobs.arrived(folder)) == 3, "three runs in flight")
        real_client.cancel(ids[1])
        worker.heartbeat()
        _until(lambda: real_client.get(ids[1]).state is RunState.CANCELED, "the cancel")
    finally:
        go.touch()
    bg.join()
    states = [real_client.get(i).state for i in ids]
    assert states == [RunState.SUCCEEDED, RunState.CANCELED, RunState.SUCCEEDED]


def test_max_runs_is_exact_with_several_runs_at_once(real_client: Client, tmp_path: Path) -> None:
    """max_runs=3 with 4 runs at once and 8 ready runs claims exactly 3 (prefetching
    included); the rest stay pending for the next worker."""
    ids = [real_client.start(slot_jobs.quick, str(tmp_path), f"q{i}").run_id for i in range(8)]
    stats = real_client.worker(register=False, runs_at_once=4).run(max_runs=3)
    assert stats.claimed == 3
    states = [real_client.get(i).state for i in ids]
    assert states.count(RunState.SUCCEEDED) == 3
    assert states.count(RunState.PENDING) == 5


def test_stop_hands_back_every_run_in_flight_and_loses_no_step(
    real_client: Client, tmp_path: Path
) -> None:
    """stop() with three runs in flight lets each current step finish and hands each run back
    at its next boundary; a second worker finishes them without running a step twice."""
    folder, go = str(tmp_path), tmp_path / "go"
    ids = [real_client.start(slot_jobs.meet, folder, f"r{i}", 3, str(go)).run_id for i in range(3)]
    worker = real_client.worker(register=False, runs_at_once=3)
    bg = _Background(worker)
    _until(lambda: len(slot_jobs.arrived(folder)) == 3, "three runs in flight")
    worker.stop()
    go.touch()
    stats = bg.join()
    assert stats.claimed == 3
    for run_id in ids:
        run = real_client.get(run_id)
        assert run.state is RunState.RUNNING
        assert run.lease_owner is None
    real_client.worker(register=False, runs_at_once=2).run(until_idle=True)
    assert [real_client.get(i).result for i in ids] == ["met"] * 3
    steps = slot_jobs.lines(f"{folder}/steps")
    assert sorted(steps) == sorted(f"r{i}:{s}" for i in range(3) for s in ("arrive", "leave"))


def test_until_idle_waits_for_runs_in_flight_before_it_returns(
    real_client: Client, tmp_path: Path
) -> None:
    """until_idle returns only when every slot is idle: runs that take a while keep the
    worker going, and runs left after them are still drained."""
    folder = str(tmp_path)
    slow = [real_client.start(slot_jobs.meet, folder, f"m{i}", 2).run_id for i in range(2)]
    quick = [real_client.start(slot_jobs.quick, folder, f"q{i}").run_id for i in range(5)]
    stats = real_client.worker(register=False, runs_at_once=3).run(until_idle=True)
    assert stats.claimed == 7
    assert {real_client.get(i).state for i in slow + quick} == {RunState.SUCCEEDED}


def test_a_worker_thread_failure_stops_the_worker_and_is_raised(
    real_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected error in one slot (not a store outage) stops the whole worker and
    run() raises it, as the single-run worker would."""
    real_client.start(slot_jobs.quick, str(tmp_path), "q")
    worker = real_client.worker(register=False, runs_at_once=2)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(worker.store, "claim_run", broken)
    with pytest.raises(RuntimeError, match="boom"):
        worker.run(until_idle=True)


def test_runs_at_once_is_bounded_and_the_defaults_are_per_database() -> None:
    """runs_at_once outside 1..MAX_RUNS_AT_ONCE is refused; each database has a default."""
    with pytest.raises(ValueError, match="runs_at_once"):
        Worker(store=None, evidence_dir=Path("."), runs_at_once=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="runs_at_once"):
        Worker(store=None, evidence_dir=Path("."), runs_at_once=MAX_RUNS_AT_ONCE + 1)  # type: ignore[arg-type]
    assert default_runs_at_once("sqlite") >= 1
    assert default_runs_at_once("postgresql") >= 1
    assert default_runs_at_once("other") == 1
