"""Group commit: a job's consecutive idempotent steps share one commit (both databases)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import engine_jobs
import group_commit_jobs
import pytest

from runwright import GroupCommit, JobContext, job
from runwright.api.client import Client
from runwright.domain.failures import NOT_SERIALIZABLE
from runwright.domain.states import RunState
from runwright.store.core.system_database import SystemDatabase
from tests.workers import start_worker


def _batches(monkeypatch: pytest.MonkeyPatch) -> list[int | str]:
    """Record the size of every shared commit the store makes (``"end:N"``: N steps recorded
    in the transaction that ends the run)."""
    sizes: list[int | str] = []
    original = SystemDatabase.finish_steps
    original_end = SystemDatabase.finish_run

    def counted(self: SystemDatabase, lease: Any, outcomes: list[Any], now: Any) -> None:
        sizes.append(len(outcomes))
        original(self, lease, outcomes, now)

    def ended(self: SystemDatabase, lease: Any, now: Any, **kwargs: Any) -> Any:
        sizes.append(f"end:{len(kwargs.get('steps') or [])}")
        return original_end(self, lease, now, **kwargs)

    monkeypatch.setattr(SystemDatabase, "finish_steps", counted)
    monkeypatch.setattr(SystemDatabase, "finish_run", ended)
    return sizes


def _drain(client: Client) -> None:
    client.worker(register=False).run(until_idle=True)


@job(name="tests.gc_batches", group_commit=GroupCommit(max_steps=20, max_seconds=3600))
def gc_batches(ctx: JobContext, n: int) -> list[int]:
    """``n`` idempotent steps; a non-idempotent step after the 25th checks what is committed."""
    seen: list[int] = []
    for i in range(n):
        ctx.step(f"s{i}", lambda v: v, i, idempotent=True)
        if i == 24:
            seen.append(ctx.step("probe", _committed_steps, ctx.run_id))
    return seen


_PROBE: dict[str, Client] = {}


def _committed_steps(run_id: str) -> int:
    """What another connection sees of this run's step records, from inside a step."""
    return len(_PROBE["client"].store.list_step_attempts(run_id))


def test_idempotent_steps_share_commits_and_a_non_idempotent_step_flushes_first(
    real_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 idempotent steps go to the database in shared commits of at most 20; before a
    non-idempotent step runs, every earlier step (25) and its write-ahead record are committed;
    the last steps are recorded in the transaction that ends the run; the run's record is
    complete and its event chain verifies."""
    sizes = _batches(monkeypatch)
    _PROBE["client"] = real_client
    run = real_client.start(gc_batches, 50)
    _drain(real_client)
    final = real_client.get(run.run_id)
    assert final.state is RunState.SUCCEEDED
    assert final.result == [26]  # 25 steps plus the probe's own write-ahead record
    assert sizes == [20, 5, 20, "end:5"]  # the probe flushed the first 25
    attempts = real_client.store.list_step_attempts(run.run_id)
    assert [a.step_key for a in attempts] == [f"s{i}" for i in range(25)] + ["probe"] + [
        f"s{i}" for i in range(25, 50)
    ]
    assert [a.sequence for a in attempts] == list(range(1, 52))
    assert real_client.verify(run.run_id).ok


def test_a_result_that_cannot_be_stored_fails_the_step_as_without_group_commit(
    real_client: Client,
) -> None:
    """A buffered step whose result cannot be stored fails at once, as it would if it were
    recorded at once (the run fails with NotSerializable), and nothing before it is lost."""
    run = real_client.start(group_commit_jobs.unstorable, 3)
    _drain(real_client)
    final = real_client.get(run.run_id)
    assert final.state is RunState.FAILED
    assert final.failure is not None
    assert final.failure.type == NOT_SERIALIZABLE
    keys = [a.step_key for a in real_client.store.list_step_attempts(run.run_id)]
    assert keys[:3] == ["s0", "s1", "s2"]


def test_default_limits_flush_at_the_end_of_the_run(
    real_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the default limits a short run's steps are written with its end, in the one
    transaction that ends it."""
    sizes = _batches(monkeypatch)
    run = real_client.start(group_commit_jobs.grouped_plain, 30)
    _drain(real_client)
    assert real_client.get(run.run_id).result == 30
    assert sizes == ["end:30"]


@pytest.mark.slow
def test_sigkill_reruns_only_unflushed_idempotent_steps(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """SIGKILL a worker running a group-commit job 4 times: the run succeeds, every
    non-idempotent step's line is written exactly once (none ever re-executed), and every
    idempotent step ran at least once (some again, having been lost with their buffer)."""
    idem, once = tmp_path / "idem", tmp_path / "once"
    steps, every = 60, 6
    run = real_client.start(
        group_commit_jobs.grouped_mixed, str(idem), str(once), steps, every, 0.02
    )
    home = real_client.settings.home
    imports = ("--import", "group_commit_jobs", "--quiet")
    kills = 0
    deadline = time.monotonic() + 240
    while kills < 4 and time.monotonic() < deadline:
        before = len(engine_jobs.lines(str(idem)))
        worker = start_worker(home, db_url, *imports, lease=1.5, log=tmp_path / "worker.log")
        while len(engine_jobs.lines(str(idem))) < before + 5 and time.monotonic() < deadline:
            time.sleep(0.01)  # this worker is running idempotent steps (some unflushed)
        if real_client.get(run.run_id).state is RunState.SUCCEEDED:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
            break
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
        kills += 1
    final = start_worker(home, db_url, *imports, lease=1.5, log=tmp_path / "worker.log")
    try:
        while real_client.get(run.run_id).state is not RunState.SUCCEEDED:
            assert time.monotonic() < deadline, f"run stuck: {real_client.get(run.run_id)}"
            time.sleep(0.1)
    finally:
        final.send_signal(signal.SIGTERM)
        final.wait(timeout=30)
    once_lines = engine_jobs.lines(str(once))
    expected_once = [f"{run.run_id}:{i}" for i in range(steps) if i % every == every - 1]
    assert once_lines == expected_once  # in order, each exactly once
    idem_lines = engine_jobs.lines(str(idem))
    expected_idem = {f"{run.run_id}:{i}" for i in range(steps) if i % every != every - 1}
    assert set(idem_lines) == expected_idem
    assert kills >= 1
    keys = [a.step_key for a in real_client.store.list_step_attempts(run.run_id)]
    assert len(keys) == len(set(keys)) == steps  # each step recorded once
    assert real_client.verify(run.run_id).ok
