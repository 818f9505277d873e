"""SIGKILL a real worker at random moments: the run still succeeds, each step exactly once."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

import engine_jobs
import proc_jobs
import pytest

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.states import RunState
from tests.workers import start_worker

pytestmark = pytest.mark.slow

STEPS = 30
KILLS = 6
LEASE = 1.5


def test_killed_workers_lose_no_step_and_repeat_none(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """A job of 30 appending steps survives 6 SIGKILLs of its worker at random moments:
    the run succeeds and every step's line appears exactly once."""
    rng = random.Random(int(os.environ.get("RUNWRIGHT_CRASH_SEED", "0")) or None)
    log = tmp_path / "lines"
    run = real_client.start(proc_jobs.appender, str(log), STEPS, 0.08)
    home = real_client.settings.home
    kills = 0
    deadline = time.monotonic() + 240
    while kills < KILLS and time.monotonic() < deadline:
        before = len(engine_jobs.lines(str(log)))
        worker = start_worker(home, db_url, "--quiet", lease=LEASE, log=tmp_path / "worker.log")
        while len(engine_jobs.lines(str(log))) <= before and time.monotonic() < deadline:
            time.sleep(0.01)  # wait until this worker is doing the run's work
        time.sleep(rng.uniform(0.0, 0.4))  # then kill it anywhere: in a step, a commit, a claim
        if real_client.get(run.run_id).state is RunState.SUCCEEDED:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            break
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        kills += 1
    final = start_worker(home, db_url, "--quiet", lease=LEASE, log=tmp_path / "worker.log")
    try:
        while real_client.get(run.run_id).state is not RunState.SUCCEEDED:
            assert time.monotonic() < deadline, f"run stuck: {real_client.get(run.run_id)}"
            time.sleep(0.1)
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)
    lines = engine_jobs.lines(str(log))
    expected = [f"{run.run_id}:{i}" for i in range(STEPS)]
    assert sorted(lines) == sorted(expected), f"after {kills} kills"
    assert len(lines) == len(set(lines)) == STEPS
    assert kills == KILLS
    takeovers = [e for e in real_client.events(run.run_id) if e.kind is EventKind.LEASE_TAKEN_OVER]
    assert len(takeovers) == KILLS
    assert real_client.verify(run.run_id).ok
