"""Several real worker processes on one database never run a step twice."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import engine_jobs
import proc_jobs
import pytest

from runwright.api.client import Client
from runwright.domain.states import RunState
from tests.workers import start_worker

pytestmark = pytest.mark.slow


def test_four_workers_share_the_work_without_running_any_step_twice(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """40 runs of 5 steps drained by 4 worker processes: every step line appears exactly once."""
    log = tmp_path / "lines"
    ids = [real_client.start(proc_jobs.appender, str(log), 5).run_id for _ in range(40)]
    workers = [
        start_worker(
            real_client.settings.home, db_url, "--until-idle", "--quiet", log=tmp_path / f"w{i}.log"
        )
        for i in range(4)
    ]
    for w in workers:
        assert w.wait(timeout=240) == 0
    lines = engine_jobs.lines(str(log))
    expected = {f"{rid}:{i}" for rid in ids for i in range(5)}
    assert len(lines) == len(expected) == 200
    assert set(lines) == expected
    assert {r.state for r in real_client.store.get_runs(ids)} == {RunState.SUCCEEDED}
    claimers = {r.lease_owner for r in real_client.store.get_runs(ids)}
    assert claimers == {None}


def _intervals(path: Path) -> list[tuple[float, float]]:
    starts: dict[str, float] = {}
    spans = []
    for line in engine_jobs.lines(str(path)):
        what, label, ts, _pid = line.split()
        if what == "start":
            starts[label] = float(ts)
        else:
            spans.append((starts[label], float(ts)))
    return spans


def test_max_parallel_bounds_children_across_processes(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """With 4 workers, a parent with max_parallel=2 never has more than 2 children running."""
    log = tmp_path / "spans"
    run = real_client.start(proc_jobs.fan_out, str(log), 8)
    workers = [
        start_worker(real_client.settings.home, db_url, "--quiet", log=tmp_path / f"w{i}.log")
        for i in range(4)
    ]
    try:
        deadline = time.monotonic() + 120
        while real_client.get(run.run_id).state is not RunState.SUCCEEDED:
            assert time.monotonic() < deadline, "fan-out did not finish"
            time.sleep(0.1)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(timeout=30)
    spans = _intervals(log)
    assert len(spans) == 8
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == 2
