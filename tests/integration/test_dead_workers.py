"""A SIGKILLed worker: doctor reports it dead at once, and `worker --until-idle` waits for
its lease and takes its run over (SQLite and PostgreSQL, real worker processes)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import engine_jobs
import proc_jobs
import pytest

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.states import RunState
from tests.acceptance.test_cli import rw
from tests.workers import start_worker, worker_env

pytestmark = pytest.mark.slow

LEASE = 30.0


def test_a_killed_worker_is_reported_dead_and_until_idle_takes_its_run_over(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """A worker is SIGKILLed mid-run, its lease still seconds from expiring. doctor says at
    once that it is dead (its pid is gone), naming the run it holds, and exits 1; then
    `runwright worker --until-idle` does not exit while that lease is about to expire: it
    waits, takes the run over and finishes it."""
    client = real_client
    home = client.settings.home
    log = tmp_path / "lines"
    run = client.start(proc_jobs.appender, str(log), 8, 0.3)
    first = start_worker(home, db_url, "--quiet", lease=LEASE, log=tmp_path / "w1.log")
    deadline = time.monotonic() + 60
    while len(engine_jobs.lines(str(log))) < 2:
        assert time.monotonic() < deadline, "the first worker made no progress"
        time.sleep(0.02)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    held = client.get(run.run_id)
    assert held.state is RunState.RUNNING
    assert held.lease_expires_at is not None
    assert held.lease_expires_at - client.clock.now() > timedelta(seconds=1)

    started = client.clock.now()
    idle_log = tmp_path / "idle.log"
    with idle_log.open("wb") as out:
        idle = subprocess.Popen(
            [sys.executable, "-m", "runwright", "worker", "--import", "proc_jobs", "--until-idle"],
            env=worker_env(home, db_url, LEASE),
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    doctor = rw(home, "doctor", "--json", db_url=db_url, check=False)
    assert doctor.returncode == 1
    report = json.loads(doctor.stdout)
    [dead] = [w for w in report["workers"] if w["pid"] == first.pid]
    assert dead["status"] == "dead"
    assert dead["current_run_id"] == run.run_id
    check = next(c for c in report["checks"] if c["name"] == "workers")
    assert check["ok"] is False
    assert "dead" in check["detail"]
    assert run.run_id in check["detail"]

    assert idle.wait(timeout=120) == 0, idle_log.read_text()
    finished = client.get(run.run_id)
    assert finished.state is RunState.SUCCEEDED, idle_log.read_text()
    kinds = [e.kind for e in client.events(run.run_id)]
    assert EventKind.LEASE_TAKEN_OVER in kinds
    if held.lease_expires_at - started > timedelta(seconds=15):  # it started well before
        assert "is gone; waiting" in idle_log.read_text()
    lines = engine_jobs.lines(str(log))
    assert sorted(lines) == sorted(f"{run.run_id}:{i}" for i in range(8))
