"""A stale worker never fails a run: it claims only runs of jobs it has registered, with two
real worker processes on one database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from runwright.api.client import Client
from runwright.domain.states import RunState
from runwright.store.core.records import NewRun
from tests.acceptance.test_cli import rw
from tests.workers import ROOT, worker_env

pytestmark = pytest.mark.slow

OLD = """from runwright import job


@job(name="tests.stale_a")
def a(ctx):
    return "a"
"""
NEW = (
    OLD
    + """

@job(name="tests.stale_b")
def b(ctx):
    import os

    return os.getpid()
"""
)


def _worker(folder: Path, home: Path, db_url: str, log: Path) -> subprocess.Popen[bytes]:
    """`runwright worker --import staleness` with ``folder``'s copy of the module."""
    env = worker_env(home, db_url)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT)])
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "runwright", "worker", "--import", "staleness"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _until(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_worker_started_before_a_job_was_added_leaves_its_runs_to_one_that_knows_it(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """Worker A imported the module before job b was added; worker B imported it after.
    A runs job a but never claims the run of b (no JobNotFound, no failed:internal): the
    run stays pending, doctor says no live worker knows the job, and B runs it."""
    client = real_client
    home = client.settings.home
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, text in ((old, OLD), (new, NEW)):
        folder.mkdir()
        (folder / "staleness.py").write_text(text)
    stale = _worker(old, home, db_url, tmp_path / "a.log")
    fresh: subprocess.Popen[bytes] | None = None
    try:
        _until(client.store.list_workers, "worker A to register")
        [a_record] = client.store.list_workers()
        assert a_record.jobs is not None
        assert "tests.stale_a" in a_record.jobs
        assert "tests.stale_b" not in a_record.jobs
        project = client.settings.project_id
        run_b = client.store.create_run(
            NewRun(job_name="tests.stale_b", job_module="staleness", project_id=project),
            client.clock.now(),
        )
        run_a = client.store.create_run(
            NewRun(job_name="tests.stale_a", job_module="staleness", project_id=project),
            client.clock.now(),
        )
        _until(lambda: client.get(run_a.run_id).state is RunState.SUCCEEDED, "A to run job a")
        time.sleep(2.5)  # several polls and job look-ups by A
        pending = client.get(run_b.run_id)
        assert pending.state is RunState.PENDING
        assert pending.attempt == 0
        doctor = rw(home, "doctor", "--json", db_url=db_url, check=False)
        assert doctor.returncode == 1
        stranded = json.loads(doctor.stdout)["stranded"]
        assert [(s["run_id"], s["problem"]) for s in stranded] == [
            (run_b.run_id, "no live worker knows job 'tests.stale_b'")
        ]
        assert "--import staleness" in stranded[0]["hint"]
        fresh = _worker(new, home, db_url, tmp_path / "b.log")
        _until(lambda: client.get(run_b.run_id).state is RunState.SUCCEEDED, "B to run job b")
        assert client.get(run_b.run_id).result == fresh.pid
        assert client.get(run_b.run_id).attempt == 1
    finally:
        for proc in (stale, fresh):
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
    assert "failed" not in (tmp_path / "a.log").read_text()
