"""`runwright worker` with several runs at once: SIGTERM drains every run in flight, SIGKILL
loses no completed step, and the output is a summary by default, a line per run with
--verbose, nothing with -q."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import engine_jobs
import proc_jobs
import pytest
import slot_jobs

from runwright.api.client import Client
from runwright.domain.states import RunState
from tests.workers import start_worker, worker_env

SLOTS = ("--import", "slot_jobs")


def _until(check: object, what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _worker(client: Client, db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `runwright worker --until-idle` to the end, capturing its output (not a terminal)."""
    argv = [sys.executable, "-m", "runwright", "worker", *SLOTS, "--until-idle", *args]
    return subprocess.run(
        argv,
        env=worker_env(client.settings.home, db_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_sigterm_drains_every_run_in_flight(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """SIGTERM to a worker running three runs at once lets each current step finish, hands
    the three runs back and exits 0; the next worker finishes them, no step twice."""
    folder, go = str(tmp_path), tmp_path / "go"
    ids = [real_client.start(slot_jobs.meet, folder, f"r{i}", 3, str(go)).run_id for i in range(3)]
    log = tmp_path / "worker.log"
    worker = start_worker(
        real_client.settings.home, db_url, *SLOTS, "--runs-at-once", "3", "--quiet", log=log
    )
    try:
        _until(lambda: len(slot_jobs.arrived(folder)) == 3, "three runs in flight")
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        go.touch()
        assert worker.wait(timeout=60) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
    for run_id in ids:
        run = real_client.get(run_id)
        assert run.state is RunState.RUNNING, log.read_text()
        assert run.lease_owner is None
    _worker(real_client, db_url, "--quiet")
    assert [real_client.get(i).result for i in ids] == ["met"] * 3
    steps = slot_jobs.lines(f"{folder}/steps")
    assert sorted(steps) == sorted(f"r{i}:{s}" for i in range(3) for s in ("arrive", "leave"))
    assert "Traceback" not in log.read_text()


@pytest.mark.slow
def test_killed_workers_with_runs_in_flight_lose_no_step_and_repeat_none(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """Four appending runs executed four at a time survive four SIGKILLs of their worker at
    random moments: every run succeeds and each step's line appears exactly once."""
    rng = random.Random(int(os.environ.get("RUNWRIGHT_CRASH_SEED", "0")) or None)
    steps, lease = 12, 1.5
    log = tmp_path / "lines"
    ids = [real_client.start(proc_jobs.appender, str(log), steps, 0.08).run_id for _ in range(4)]
    home = real_client.settings.home
    args = ("--runs-at-once", "4", "--quiet")
    wlog = tmp_path / "worker.log"
    kills = 0
    deadline = time.monotonic() + 240
    while kills < 4 and time.monotonic() < deadline:
        before = len(engine_jobs.lines(str(log)))
        worker = start_worker(home, db_url, *args, lease=lease, log=wlog)
        while len(engine_jobs.lines(str(log))) <= before + 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # several runs are inside steps now
        time.sleep(rng.uniform(0.0, 0.4))
        if all(real_client.get(i).state is RunState.SUCCEEDED for i in ids):
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            break
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        kills += 1
    final = start_worker(home, db_url, *args, lease=lease, log=wlog)
    try:
        while any(real_client.get(i).state is not RunState.SUCCEEDED for i in ids):
            assert time.monotonic() < deadline, [real_client.get(i) for i in ids]
            time.sleep(0.1)
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)
    lines = engine_jobs.lines(str(log))
    expected = [f"{run_id}:{i}" for run_id in ids for i in range(steps)]
    assert sorted(lines) == sorted(expected), f"after {kills} kills"
    assert kills >= 1
    assert all(real_client.verify(i).ok for i in ids)


def test_default_output_off_a_terminal_is_a_summary_not_a_line_per_run(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """To a pipe, the worker prints no line per run but a final summary with the counts."""
    ids = [real_client.start(slot_jobs.quick, str(tmp_path), f"q{i}").run_id for i in range(5)]
    out = _worker(real_client, db_url, "--runs-at-once", "2")
    assert not any(run_id in out.stdout for run_id in ids)
    assert re.search(r"5 claimed, 5 succeeded, 0 running, [\d.]+ runs/s in [\d.]+s", out.stdout)
    assert "2 runs at once" in out.stderr
    assert "worker stopped: 5 claimed, 5 succeeded" in out.stderr


def test_verbose_prints_a_line_per_run(real_client: Client, db_url: str, tmp_path: Path) -> None:
    """--verbose prints one line per run (state, run id, job, time taken) and the summary."""
    ids = [real_client.start(slot_jobs.quick, str(tmp_path), f"q{i}").run_id for i in range(3)]
    out = _worker(real_client, db_url, "--verbose")
    for run_id in ids:
        assert re.search(rf"succeeded\s+{run_id} tests\.slots\.quick \(\d", out.stdout)
    assert "3 claimed, 3 succeeded" in out.stdout


def test_quiet_prints_nothing(real_client: Client, db_url: str, tmp_path: Path) -> None:
    """-q prints nothing at all when all goes well (errors and warnings would still show)."""
    real_client.start(slot_jobs.quick, str(tmp_path), "q")
    out = _worker(real_client, db_url, "-q", "--runs-at-once", "2")
    assert out.stdout == ""
    assert out.stderr == ""
    assert real_client.counts() == {"succeeded": 1}


def test_processes_and_the_older_concurrency_spelling_both_run_worker_processes(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """--processes 2 (and --concurrency 2, its older name) drain the queue with two worker
    processes, each printing its own summary line."""
    for flag in ("--processes", "--concurrency"):
        ids = [
            real_client.start(slot_jobs.quick, str(tmp_path), f"{flag}{i}").run_id for i in range(4)
        ]
        out = _worker(real_client, db_url, flag, "2", "--runs-at-once", "2")
        assert {real_client.get(i).state for i in ids} == {RunState.SUCCEEDED}
        finals = re.findall(r"^worker \d+: (\d+) claimed", out.stdout, re.MULTILINE)
        assert len(finals) == 2, out.stdout
        assert sum(int(n) for n in finals) == 4
