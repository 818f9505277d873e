"""SIGKILL real workers before, during and after a consumer's HTTP call (SQLite and PostgreSQL):
no event is lost, no write is applied twice, every run ends committed or settled."""

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
import workflows_crashflow
from workflows_http import Ledger, serve

from runwright.api.client import Client
from runwright.domain.states import TERMINAL_RUN_STATES
from runwright.domain.workflows import EventStatus, MutationStatus, Phase, RunStatus
from tests.workers import worker_env

pytestmark = pytest.mark.slow

ORDERS = [f"o{i}" for i in range(6)]
LEASE = 1.5
SCENARIOS = ["before", "during-applied", "during-lost", "after"]


def _worker(home: Path, db_url: str, url: str, control: Path, log: Path) -> subprocess.Popen[bytes]:
    env = worker_env(home, db_url, LEASE)
    env.update(RW_CRASH_URL=url, RW_CRASH_CONTROL=str(control))
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "runwright", "worker", "--quiet"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _until(check: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            raise AssertionError(f"timed out waiting for {what}; worker log:\n{tail}")
        time.sleep(0.02)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _scenario(client: Client, ledger: Ledger, name: str) -> Callable[[], bool]:
    """Set the scenario up; return the condition at which the worker is killed."""
    wf = client.workflows
    if name == "before":
        # the ledger row is written, the request not sent yet
        def sent_nothing() -> bool:
            flying = wf.mutations("crashflow", statuses=(MutationStatus.IN_FLIGHT.value,))
            return any(m.idempotency_key not in ledger.seen_keys for m in flying)

        return sent_nothing
    if name.startswith("during"):
        ledger.holding.clear()
        ledger.release.clear()
        ledger.hold = "apply" if name == "during-applied" else "drop"
        return ledger.holding.is_set

    def in_next() -> bool:
        runs = wf.runs("crashflow", statuses=(RunStatus.ACTIVE.value,))
        return any(r.phase is Phase.MUTATED for r in runs)

    return in_next


def test_sigkill_around_the_mutation_call_loses_nothing_and_repeats_nothing(
    real_client: Client, db_url: str, tmp_path: Path
) -> None:
    """Kill the worker after the ledger row but before the request, during the request (the
    server applied it, or never did), and after it (in next); then let a worker finish.
    Every order is applied exactly once, every event is consumed, every run ended (committed,
    crashed or released, none stranded) and the mutations are all settled."""
    client = real_client
    home = client.settings.home
    control = tmp_path / "control.json"
    log = tmp_path / "worker.log"
    with serve() as (url, ledger):
        client.workflows.deploy(workflows_crashflow.wf)
        for order in ORDERS:
            client.workflows.publish(
                "crashflow",
                "orders",
                f"order:{order}",
                {"item": order},
                input=("shop", "order", order, order),
            )
        for name in SCENARIOS:
            control.write_text(
                json.dumps(
                    {
                        "pre_send": 3.0 if name == "before" else 0,
                        "in_next": 3.0 if name == "after" else 0,
                    }
                )
            )
            condition = _scenario(client, ledger, name)
            worker = _worker(home, db_url, url, control, log)
            try:
                _until(condition, f"scenario {name}", log)
            finally:
                _kill(worker)
            ledger.release.set()
        control.write_text("{}")
        final = _worker(home, db_url, url, control, log)
        try:
            _until(
                lambda: all(
                    e.status is EventStatus.CONSUMED
                    for e in client.workflows.events("crashflow", "orders")
                ),
                "every order consumed",
                log,
                timeout=120,
            )
            _until(lambda: client.workflows.get("crashflow").active_run_id is None, "idle", log)
        finally:
            final.send_signal(signal.SIGTERM)
            final.wait(timeout=30)
        applied = ledger.items()
    assert sorted(applied) == sorted(ORDERS), f"requests {ledger.requests}, applied {applied}"
    mutations = client.workflows.mutations("crashflow", limit=1000)
    assert {m.status for m in mutations} <= {MutationStatus.APPLIED, MutationStatus.FAILED}
    assert sum(m.status is MutationStatus.APPLIED for m in mutations) == len(ORDERS)
    runs = client.workflows.runs("crashflow", limit=1000)
    ended = {RunStatus.COMMITTED, RunStatus.CRASHED, RunStatus.RELEASED}
    assert {r.status for r in runs} <= ended
    assert {RunStatus.CRASHED, RunStatus.RELEASED} <= {r.status for r in runs}
    for r in runs:
        assert client.get(r.run_id).state in TERMINAL_RUN_STATES
    assert client.stranded() == []
    assert all(client.verify(r.run_id).ok for r in runs if r.status is not RunStatus.COMMITTED)
