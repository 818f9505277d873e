"""The DBOS side of the core benchmark: the same three workloads, written with DBOS's own APIs.

This script runs in its own virtualenv (``bench/.venv-dbos``, made by ``bench/dbos_env.py``), so
it imports nothing from runwright or from the rest of ``bench/``. ``bench_core.py`` starts it
once per measurement against a fresh system database and reads one line of JSON, prefixed with
``BENCH_JSON:``, from its standard output. Timings are taken inside this process, so interpreter
start-up, imports, ``DBOS.launch()`` and schema migrations are never part of a measured time.

Workloads (one per invocation, named by ``--workload``):

- ``w1``: one ``@DBOS.workflow()`` that calls a no-op ``@DBOS.step()`` N times in sequence.
- ``w2-enqueue`` then ``w2-drain`` (two processes on one database, like a producer and a
  worker): the first registers the queue and enqueues N one-step workflows without dequeuing
  any (``DBOS.listen_queues([])``); the second launches DBOS as the one worker process and is
  timed from the end of ``DBOS.launch()`` until all N workflows are ``SUCCESS`` in the system
  database.
- ``w3``: a parent workflow that, layer by layer, starts ``width`` child workflows with
  ``DBOS.start_workflow`` and waits for all of their handles before starting the next layer,
  so every child of a layer runs after the whole previous layer (up to ``width`` = 20 at once).

Configuration choices (documented in ``bench/README.md`` too):

- ``system_database_url`` is a fresh SQLite file or a fresh PostgreSQL database per run.
- SQLite: DBOS leaves the journal mode at SQLite's default (a rollback journal). For a like-for-
  like comparison the file is switched to WAL before DBOS opens it (the journal mode is stored
  in the file, so every DBOS connection then uses WAL); ``synchronous`` is left at SQLite's
  default, FULL, which is what runwright uses too. The effective values, read through DBOS's
  own engine, are reported.
- PostgreSQL: DBOS's defaults (``synchronous_commit`` is the server's, ``on``).
- W2 queue: ``DBOS.register_queue`` with the given ``worker_concurrency`` (DBOS's default,
  unlimited, unless told otherwise) and ``polling_interval_sec``: 0.01 s instead of the default
  1 s so the drain is not paced by the poll interval, or ``--queue-poll default`` to leave it
  at DBOS's default (the setting is then not passed at all).
- W2 enqueue: ``batch`` (default) enqueues all N workflows in one transaction with
  ``DBOSClient.enqueue_in_transaction``, the DBOS counterpart of runwright's ``start_many``;
  ``each`` calls ``Queue.enqueue`` once per workflow (one transaction each).
- Logging at WARNING, a fixed ``application_version`` so that the enqueuing and the draining
  processes agree on the version, and distinct ``executor_id`` per process.
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

APP_NAME = "runwright-bench"
APP_VERSION = "bench"
QUEUE_NAME = "bench_w2"
LEAF_NAME = "bench_leaf"
DONE_POLL_SECONDS = 0.01
RESULT_PREFIX = "BENCH_JSON:"


@DBOS.step(name="bench_noop")
def noop(i: int) -> int:
    """The no-op durable step."""
    return i


@DBOS.workflow(name="bench_w1")
def w1_workflow(n: int) -> int:
    """W1: N sequential no-op steps in one workflow."""
    for i in range(n):
        noop(i)
    return n


@DBOS.workflow(name=LEAF_NAME)
def leaf_workflow(i: int) -> int:
    """W2 and W3: a workflow of one no-op step."""
    return noop(i)


@DBOS.workflow(name="bench_dag")
def dag_workflow(layers: int, width: int) -> int:
    """W3: layers of child workflows; each layer starts after the whole previous one ended."""
    done = 0
    for layer in range(layers):
        handles = [DBOS.start_workflow(leaf_workflow, layer * width + k) for k in range(width)]
        done += len([h.get_result() for h in handles])
    return done


def _dbos_version() -> str:
    from importlib.metadata import version

    return version("dbos")


def _prepare_sqlite(url: str) -> None:
    """Switch a fresh SQLite file to WAL (persistent in the file) before DBOS opens it."""
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _engine() -> sa.Engine:
    """DBOS's own system-database engine (private attribute, read only for reporting)."""
    from dbos import _dbos

    instance = _dbos._dbos_global_instance
    assert instance is not None
    engine: sa.Engine = instance._sys_db.engine
    return engine


def _durability(url: str) -> dict[str, Any]:
    """The durability settings DBOS's connections actually run with."""
    with _engine().connect() as conn:
        if url.startswith("sqlite"):
            return {
                "journal_mode": conn.execute(sa.text("PRAGMA journal_mode")).scalar(),
                "synchronous": conn.execute(sa.text("PRAGMA synchronous")).scalar(),
            }
        return {
            "synchronous_commit": conn.execute(sa.text("SHOW synchronous_commit")).scalar(),
            "fsync": conn.execute(sa.text("SHOW fsync")).scalar(),
        }


def _launch(url: str, executor: str, *, listen: bool) -> float:
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": url,
        "log_level": "WARNING",
        "application_version": APP_VERSION,
        "executor_id": executor,
    }
    DBOS(config=config)
    if not listen:
        DBOS.listen_queues([])
    started = time.perf_counter()
    DBOS.launch()
    return time.perf_counter() - started


def _succeeded(url: str) -> int:
    table = "workflow_status" if url.startswith("sqlite") else "dbos.workflow_status"
    query = sa.text(f"SELECT count(*) FROM {table} WHERE queue_name = :q AND status = 'SUCCESS'")
    with _engine().connect() as conn:
        return int(conn.execute(query, {"q": QUEUE_NAME}).scalar() or 0)


def run_w1(args: argparse.Namespace) -> dict[str, Any]:
    launch = _launch(args.url, "bench-w1", listen=False)
    started = time.perf_counter()
    result = w1_workflow(args.n)
    seconds = time.perf_counter() - started
    if result != args.n:
        raise RuntimeError(f"w1 returned {result!r}, expected {args.n}")
    return {"seconds": seconds, "launch_seconds": launch}


def run_w2_enqueue(args: argparse.Namespace) -> dict[str, Any]:
    launch = _launch(args.url, "bench-producer", listen=False)
    settings: dict[str, Any] = {}  # what is not given stays at DBOS's own default
    if args.worker_concurrency is not None:
        settings["worker_concurrency"] = args.worker_concurrency
    if args.queue_poll is not None:
        settings["polling_interval_sec"] = args.queue_poll
    queue = DBOS.register_queue(QUEUE_NAME, **settings)
    if args.enqueue == "each":
        started = time.perf_counter()
        for i in range(args.n):
            queue.enqueue(leaf_workflow, i)
        seconds = time.perf_counter() - started
    else:
        client = DBOSClient(system_database_url=args.url, application_name=APP_NAME)
        try:
            options: Any = {
                "workflow_name": LEAF_NAME,
                "queue_name": QUEUE_NAME,
                "app_version": APP_VERSION,
            }
            started = time.perf_counter()
            with client._sys_db.engine.begin() as conn:
                for i in range(args.n):
                    client.enqueue_in_transaction(conn, options, i)
            seconds = time.perf_counter() - started
        finally:
            client.destroy()
    return {"seconds": seconds, "launch_seconds": launch}


def run_w2_drain(args: argparse.Namespace) -> dict[str, Any]:
    launch = _launch(args.url, "bench-worker", listen=True)
    started = time.perf_counter()
    deadline = started + args.timeout
    while (done := _succeeded(args.url)) < args.n:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {done} of {args.n} queued workflows succeeded")
        time.sleep(DONE_POLL_SECONDS)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "launch_seconds": launch}


def run_w3(args: argparse.Namespace) -> dict[str, Any]:
    launch = _launch(args.url, "bench-w3", listen=False)
    started = time.perf_counter()
    result = dag_workflow(args.layers, args.width)
    seconds = time.perf_counter() - started
    if result != args.layers * args.width:
        raise RuntimeError(f"w3 returned {result!r}, expected {args.layers * args.width}")
    return {"seconds": seconds, "launch_seconds": launch}


RUNNERS = {
    "w1": run_w1,
    "w2-enqueue": run_w2_enqueue,
    "w2-drain": run_w2_drain,
    "w3": run_w3,
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=sorted(RUNNERS), required=True)
    parser.add_argument("--url", required=True, help="the DBOS system database URL")
    parser.add_argument("--n", type=int, default=1000, help="steps (w1) or workflows (w2)")
    parser.add_argument("--layers", type=int, default=10)
    parser.add_argument("--width", type=int, default=20)
    parser.add_argument(
        "--worker-concurrency",
        type=lambda v: None if v in {"", "none"} else int(v),
        default=None,
        help="W2 queue worker_concurrency ('none' = DBOS default, unlimited)",
    )
    parser.add_argument(
        "--queue-poll",
        type=lambda v: None if v in {"", "default"} else float(v),
        default=0.01,
        help="W2 queue polling_interval_sec ('default' = DBOS's own, 1 s)",
    )
    parser.add_argument("--enqueue", choices=["batch", "each"], default="batch")
    parser.add_argument("--timeout", type=float, default=600.0)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out: dict[str, Any] = {"workload": args.workload, "dbos_version": _dbos_version()}
    try:
        if args.url.startswith("sqlite"):
            _prepare_sqlite(args.url)
        out.update(RUNNERS[args.workload](args))
        out["durability"] = _durability(args.url)
        out["ok"] = True
    except Exception as exc:
        out["ok"] = False
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc(limit=8)
    finally:
        try:
            DBOS.destroy()
        except Exception as exc:
            out.setdefault("warnings", []).append(f"DBOS.destroy failed: {exc}")
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
