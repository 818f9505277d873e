"""An op run's finalization survives its worker being SIGKILLed right after the op run ended:
it is a durable run queued by the end, taken over by the next worker, stored exactly once."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from execmodel_ops import operator, write_op

from runwright.api.client import Client
from runwright.domain.events import EventKind
from runwright.domain.states import RunState
from runwright.store.execmodel import FINALIZE_JOB
from tests.workers import start_worker

LEASE = 1.5


def _wait(predicate: Callable[[], bool], what: str, seconds: float = 120.0) -> None:
    """Poll ``predicate`` until it holds, or fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_killed_worker_leaves_the_finalization_to_the_next_one(
    real_client: Client, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real worker ends an op run, claims its finalize run and is SIGKILLed as it starts to
    finalize; a second worker takes the finalize run over and finalizes the op run once (one
    set of check events, one finalize run). No ticker is involved."""
    client = real_client
    source = write_op(client.settings.project_root / "ops", operator())
    op = client.ops.operator("WriteRows", source).operator
    run = client.ops.start_op_run(op, {})
    flag = tmp_path / "kill.flag"
    flag.touch()
    monkeypatch.setenv("RUNWRIGHT_TEST_KILL_FLAG", str(flag))
    home, log = client.settings.home, tmp_path / "worker.log"
    args = ("--quiet", "--import", "finalize_kill")
    first = start_worker(home, db_url, *args, lease=LEASE, log=log)
    try:
        first.wait(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert flag.with_suffix(".killed").read_text() == run.run_id, log.read_text()
    assert client.get(run.run_id).state is RunState.SUCCEEDED
    em = client.ops.env.em
    assert em.get_op_run(run.run_id).finalized is False
    follow_up = em.finalize_run_of(run.project_id, run.run_id)
    assert follow_up is not None
    assert client.get(follow_up).state is RunState.RUNNING  # held by the dead worker

    flag.unlink()
    second = start_worker(
        home, db_url, "--quiet", "--import", "finalize_kill", lease=LEASE, log=log
    )
    try:
        _wait(lambda: em.get_op_run(run.run_id).finalized, "the op run to be finalized")
        _wait(lambda: client.get(follow_up).state is RunState.SUCCEEDED, "the finalize run")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    record = em.get_op_run(run.run_id)
    assert record.result is not None
    assert record.result.value == "PASS"
    checks = [e for e in client.events(run.run_id) if e.kind is EventKind.CHECK_COMPLETED]
    assert len(checks) == 1
    taken = [e.kind for e in client.events(follow_up)]
    assert EventKind.LEASE_TAKEN_OVER in taken
    finalizers = [r for r in client.list_runs(limit=100) if r.job_name == FINALIZE_JOB]
    assert [r.run_id for r in finalizers] == [follow_up]
