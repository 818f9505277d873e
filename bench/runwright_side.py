"""The runwright side of the core benchmark: open a fresh store, run one workload, time it.

Everything runs in this process with one in-process worker (``register=False``), exactly as the
public API is meant to be used by an application that embeds the engine. Opening the client
(schema creation and migration) is never timed; what is timed is described per workload.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text

import workloads
from dbkinds import Target
from runwright import Client, RunState, load_settings
from runwright.engine.worker import default_runs_at_once

TERMINAL = {RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELED}
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 600.0


def open_client(target: Target) -> Client:
    """A client on the target database (schema created and migrated, not timed)."""
    settings = load_settings(
        env={},
        overrides={
            "home": target.workdir / ".runwright",
            "database_url": target.runwright_url,
            "poll_seconds": POLL_SECONDS,
        },
    )
    return Client.open(settings)


def durability(client: Client) -> dict[str, Any]:
    """The durability settings runwright's own connections run with."""
    db = client.store.db
    with db.engine.connect() as conn:
        if db.is_sqlite:
            return {
                "journal_mode": conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
                "synchronous": conn.exec_driver_sql("PRAGMA synchronous").scalar(),
                "setting_sqlite_synchronous": client.settings.sqlite_synchronous,
            }
        return {
            "synchronous_commit": conn.execute(text("SHOW synchronous_commit")).scalar(),
        }


def _drain(client: Client) -> int:
    """Run one in-process worker, configured as ``runwright worker`` configures it on this
    database (several runs at once on PostgreSQL), until nothing is claimable now; return
    runs claimed."""
    at_once = default_runs_at_once(client.store.db.dialect)
    return client.worker(register=False, runs_at_once=at_once).run(until_idle=True).claimed


def run_w1(client: Client, steps: int, *, grouped: bool = False) -> dict[str, Any]:
    """W1: time ``start`` + one worker draining the single run of ``steps`` no-op steps
    (W1g with ``grouped``: the job lets its steps share commits)."""
    started = time.perf_counter()
    run = client.start(workloads.w1g if grouped else workloads.w1, steps)
    claimed = _drain(client)
    seconds = time.perf_counter() - started
    final = client.get(run.run_id)
    if final.state != RunState.SUCCEEDED or final.result != steps:
        raise RuntimeError(f"w1 ended {final.state.value} with result {final.result!r}")
    return {"seconds": seconds, "claims": claimed}


def run_w2(client: Client, runs: int, *, grouped: bool = False) -> dict[str, Any]:
    """W2: time ``start_many`` (enqueue) and, separately, one worker draining every run
    (W2g with ``grouped``: each run's step is recorded with its end, one commit per run)."""
    started = time.perf_counter()
    leaf = workloads.leaf_g if grouped else workloads.leaf
    ids = client.start_many(leaf, [(i,) for i in range(runs)])
    enqueued = time.perf_counter()
    claimed = _drain(client)
    drained = time.perf_counter()
    counts = client.counts()
    if len(ids) != runs or counts.get(RunState.SUCCEEDED.value) != runs:
        raise RuntimeError(f"w2 left runs in states {counts}")
    return {"seconds": drained - enqueued, "enqueue_seconds": enqueued - started, "claims": claimed}


def run_w3(client: Client, layers: int, width: int) -> dict[str, Any]:
    """W3: time ``start`` of the parent until the parent is terminal (one worker throughout).

    ``Worker.run(until_idle=True)`` returns when nothing is claimable right now; the loop calls
    it again (with a new worker: a stopped worker does not run twice) until the parent ended.
    """
    started = time.perf_counter()
    deadline = started + TIMEOUT_SECONDS
    run = client.start(workloads.dag, layers, width)
    claimed = 0
    rounds = 0
    while True:
        claimed += _drain(client)
        rounds += 1
        final = client.get(run.run_id)
        if final.state in TERMINAL:
            break
        if time.perf_counter() > deadline:
            raise TimeoutError(f"w3 parent still {final.state.value} after {TIMEOUT_SECONDS}s")
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - started
    expected = layers * width
    if final.state != RunState.SUCCEEDED or final.result != expected:
        raise RuntimeError(f"w3 ended {final.state.value} with result {final.result!r}")
    return {"seconds": seconds, "claims": claimed, "worker_rounds": rounds}


def measure(target: Target, workload: str, sizes: Any) -> dict[str, Any]:
    """Open a fresh client on ``target``, run ``workload`` once, and close it."""
    client = open_client(target)
    try:
        if workload in ("w1", "w1g"):
            out = run_w1(client, sizes.w1_steps, grouped=workload == "w1g")
        elif workload in ("w2", "w2g"):
            out = run_w2(client, sizes.w2_runs, grouped=workload == "w2g")
        else:
            out = run_w3(client, sizes.w3_layers, sizes.w3_width)
        out["durability"] = durability(client)
        return out
    finally:
        client.close()
