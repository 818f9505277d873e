"""The DBOS side of the workflow benchmark: events through a DBOS queue, three steps each.

Runs in ``bench/.venv-dbos`` (imports nothing from runwright). One process: it launches DBOS
(listening to the queue, polling every 0.01 s), then is timed from enqueuing N workflows in one
transaction (``DBOSClient.enqueue_in_transaction``, the counterpart of a producer committing N
events at once) until all N are ``SUCCESS``. Each workflow runs three durable steps, like a
consumer run: ``prepare`` (returns the data), ``mutate`` (the "external write": appends to an
in-memory list, keyed by the workflow id) and ``next`` (returns the new state). With
``--worker-concurrency 1`` the queue runs one workflow at a time, like a runwright workflow's
one active run. Prints one line of JSON prefixed with ``BENCH_JSON:``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
import traceback
from typing import Any

import sqlalchemy as sa
from dbos import DBOS, DBOSClient, DBOSConfig

APP_NAME = "runwright-bench-workflows"
APP_VERSION = "bench"
QUEUE_NAME = "bench_events"
WORKFLOW_NAME = "bench_event"
RESULT_PREFIX = "BENCH_JSON:"
WRITTEN: dict[str, Any] = {}


@DBOS.step(name="bench_prepare")
def prepare(event: dict[str, Any]) -> dict[str, Any]:
    """Read and decide (no side effect)."""
    return {"item": event["item"]}


@DBOS.step(name="bench_mutate")
def mutate(data: dict[str, Any]) -> dict[str, Any]:
    """The one external write (kept in memory, once per workflow id)."""
    key = DBOS.workflow_id or ""
    return WRITTEN.setdefault(key, {"id": f"w-{data['item']}"})


@DBOS.step(name="bench_next")
def next_step(result: dict[str, Any]) -> dict[str, Any]:
    """Compute the new state."""
    return {"last": result["id"]}


@DBOS.workflow(name=WORKFLOW_NAME)
def handle(event: dict[str, Any]) -> dict[str, Any]:
    """prepare → mutate → next for one event."""
    return next_step(mutate(prepare(event)))


def _engine() -> sa.Engine:
    from dbos import _dbos

    instance = _dbos._dbos_global_instance
    assert instance is not None
    engine: sa.Engine = instance._sys_db.engine
    return engine


def _succeeded(url: str) -> int:
    table = "workflow_status" if url.startswith("sqlite") else "dbos.workflow_status"
    query = sa.text(f"SELECT count(*) FROM {table} WHERE queue_name = :q AND status = 'SUCCESS'")
    with _engine().connect() as conn:
        return int(conn.execute(query, {"q": QUEUE_NAME}).scalar() or 0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Launch, then time enqueue-all + drain."""
    if args.url.startswith("sqlite"):
        conn = sqlite3.connect(args.url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.close()
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": args.url,
        "log_level": "WARNING",
        "application_version": APP_VERSION,
        "executor_id": "bench-workflows",
    }
    DBOS(config=config)
    DBOS.launch()
    DBOS.register_queue(
        QUEUE_NAME,
        worker_concurrency=args.worker_concurrency,
        polling_interval_sec=args.queue_poll,
    )
    client = DBOSClient(system_database_url=args.url, application_name=APP_NAME)
    options: Any = {
        "workflow_name": WORKFLOW_NAME,
        "queue_name": QUEUE_NAME,
        "app_version": APP_VERSION,
    }
    try:
        started = time.perf_counter()
        with client._sys_db.engine.begin() as conn:
            for i in range(args.n):
                client.enqueue_in_transaction(conn, options, {"item": f"e{i}"})
        enqueued = time.perf_counter() - started
        deadline = started + args.timeout
        while (done := _succeeded(args.url)) < args.n:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"only {done} of {args.n} workflows succeeded")
            time.sleep(0.01)
        seconds = time.perf_counter() - started
    finally:
        client.destroy()
    return {"seconds": seconds, "enqueue_seconds": enqueued, "written": len(WRITTEN)}


def main(argv: list[str]) -> int:
    """Parse arguments, run, print the result line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--queue-poll", type=float, default=0.01)
    parser.add_argument(
        "--worker-concurrency",
        type=lambda v: None if v in {"", "none"} else int(v),
        default=None,
        help="queue worker_concurrency ('none' = DBOS default, unlimited)",
    )
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    out: dict[str, Any] = {}
    try:
        from importlib.metadata import version

        out["dbos_version"] = version("dbos")
        out.update(run(args))
        out["ok"] = True
    except Exception as exc:
        out.update(
            ok=False, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=8)
        )
    finally:
        try:
            DBOS.destroy()
        except Exception as exc:
            out.setdefault("warnings", []).append(f"DBOS.destroy failed: {exc}")
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
