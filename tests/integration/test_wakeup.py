"""Idle workers are woken when work becomes ready — PostgreSQL by LISTEN/NOTIFY, a SQLite file by
a local signal sent after the commit — so a run starts long before the next poll; polling stays
the correctness path (a worker with no signal still finds the work)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_jobs import three_steps

from runwright.api.client import Client
from runwright.config import Settings
from runwright.domain.states import RunState
from runwright.store.wake_signal import WakeListener, signal_workers, wake_dir
from tests.workers import worker_env

pytestmark = pytest.mark.slow

LONG_POLL = 60.0


def _wait_for(client: Client, run_id: str, limit: float) -> RunState:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        run = client.get(run_id)
        if run.state is RunState.SUCCEEDED:
            return run.state
        time.sleep(0.02)
    return client.get(run_id).state


def _idle_worker(home: Path, db_url: str, log: Path) -> subprocess.Popen[bytes]:
    """A real worker process that polls only every 60 s."""
    env = worker_env(home, db_url)
    env["RUNWRIGHT_POLL_SECONDS"] = str(LONG_POLL)
    argv = [sys.executable, "-m", "runwright", "worker", "--import", "engine_jobs"]
    with log.open("ab") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def test_an_idle_worker_starts_new_work_long_before_its_next_poll(
    settings: Settings, real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """A worker polling every 60 s runs each newly enqueued run at once: the enqueue's commit
    wakes it (three runs in a row, each after the worker went idle again)."""
    log = tmp_path / "worker.log"
    worker = _idle_worker(settings.home, db_url, log)
    try:
        time.sleep(2.0)  # started, first poll done, now idle
        out = tmp_path / "out.txt"
        for n in range(3):
            run = real_client.start(three_steps, str(out), f"flag-{n}")
            state = _wait_for(real_client, run.run_id, 20.0)
            assert state is RunState.SUCCEEDED, log.read_text()[-2000:]
            time.sleep(0.3)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)


def test_a_sqlite_signal_reaches_every_listener_and_clears_dead_ones(tmp_path: Path) -> None:
    """signal_workers reaches each bound listener once and removes the socket of a listener
    that is gone."""
    folder = wake_dir(tmp_path / "state.db")
    woken: list[str] = []
    one = WakeListener(folder, lambda: woken.append("one"))
    two = WakeListener(folder, lambda: woken.append("two"))
    stale = folder / "0-0-dead.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(stale))
    dead.close()  # bound then closed: the file stays, nobody listens
    try:
        assert signal_workers(folder) == 2
        deadline = time.monotonic() + 5
        while len(woken) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(woken) == ["one", "two"]
        assert not stale.exists()
    finally:
        one.close()
        two.close()
    assert signal_workers(folder) == 0
