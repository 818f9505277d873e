"""Benchmark: events per second through publish → prepare → mutate → next → commit.

One invocation measures, on each database kind, three things on fresh databases:

- **runwright**: a workflow whose producer publishes N events in one run (one commit) and whose
  consumer handles each event in its own run: prepare reserves it, mutate makes one ledgered
  call to an in-memory tool, next returns, and the commit consumes it. One in-process worker,
  timed from its start until every event is consumed.
- **raw**: N bare one-row INSERT + COMMIT transactions (the floor of any engine that makes each
  event's progress durable with its own commit), from ``rawlimit.py``.
- **DBOS**: N workflows enqueued on a DBOS queue in one transaction, each running three steps
  (prepare, mutate, next), timed until all succeed (``peers/dbos_workflows.py``, in
  ``bench/.venv-dbos``): once with ``worker_concurrency=1`` (one event at a time, like a
  workflow's one active run) and once with DBOS's default (unlimited, events in parallel).

Writes ``bench/results/workflows-<kind>.json`` (``-quick`` with ``--quick``).

    .venv/bin/python bench/bench_workflows.py --db both --events 500 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

import runwright  # noqa: E402
from runwright import Prepared, Tool, mutation  # noqa: E402
from runwright.api.client import Client  # noqa: E402
from runwright.config import load_settings  # noqa: E402

RESULT_PREFIX = "BENCH_JSON:"
PEER = BENCH / "peers" / "dbos_workflows.py"
COUNT: dict[str, int] = {"events": 0}


class Sink(Tool):
    """An in-memory "external system": each idempotency key written once."""

    namespace = "sink"

    def __init__(self) -> None:
        super().__init__()
        self.written: dict[str, Any] = {}

    @mutation
    def write(self, item: str, *, idempotency_key: str) -> dict[str, Any]:
        """Record the write; the result is what next receives."""
        return self.written.setdefault(idempotency_key, {"id": f"w-{item}"})


sink = Sink()
wf = runwright.Workflow("bench", topics=["events"], tools=[sink])


@wf.producer(publishes=["events"], every="1d")
def source(ctx: Any, state: Any) -> Any:
    """Publish COUNT['events'] events in one run."""
    for i in range(COUNT["events"]):
        input_id = ctx.register_input("bench", "event", str(i))
        ctx.publish("events", f"e{i}", {"item": f"e{i}"}, input_id=input_id)
    return {"published": COUNT["events"]}


@wf.consumer(subscribe=["events"])
class Handle:
    """One event per run: prepare → mutate → next → commit."""

    def prepare(self, ctx: Any, state: Any) -> Any:
        events = ctx.peek("events", limit=1)
        return Prepared.reserve(events, data=[e.payload["item"] for e in events])

    def mutate(self, ctx: Any, prepared: Prepared) -> None:
        sink.write(prepared.data[0])

    def next(self, ctx: Any, prepared: Prepared, result: runwright.MutationResult) -> Any:
        return None


def _consumed(client: Client, n: int) -> int:
    events = client.workflows.events("bench", "events", limit=n + 10)
    return sum(e.status.value == "consumed" for e in events)


def measure_runwright(target: Any, n: int) -> dict[str, Any]:
    """Deploy, then time one worker from start until all N events are consumed."""
    import bench_workflows as me  # the module (not __main__) so workers can import it by ref

    settings = load_settings(
        env={},
        overrides={
            "home": target.workdir / ".runwright",
            "database_url": target.runwright_url,
            # no heartbeat during the measurement (its thread would compete for the GIL)
            "lease_seconds": 600.0,
        },
    )
    client = Client.open(settings)
    try:
        me.COUNT["events"] = n
        me.sink.written.clear()
        client.workflows.deploy(me.wf)
        worker = client.worker(register=False)
        started = time.perf_counter()
        stats = worker.run(until_idle=True)
        consumed = _consumed(client, n)
        while consumed < n and time.perf_counter() - started < 900:
            time.sleep(0.05)  # a retry waiting for its backoff (never expected here)
            stats = worker.run(until_idle=True)
            consumed = _consumed(client, n)
        seconds = time.perf_counter() - started
        if consumed != n or len(me.sink.written) != n:
            raise RuntimeError(f"consumed {consumed}, written {len(me.sink.written)} of {n}")
        return {"seconds": seconds, "runs": stats.claimed}
    finally:
        client.close()


def measure_dbos(python: Path, target: Any, n: int, concurrency: str) -> dict[str, Any]:
    """One DBOS measurement in its own virtualenv."""
    cmd = [str(python), str(PEER), "--url", target.dbos_url, "--n", str(n)]
    cmd += ["--worker-concurrency", concurrency]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_PREFIX)]
    if not lines:
        return {"ok": False, "error": (proc.stderr or proc.stdout)[-500:]}
    result: dict[str, Any] = json.loads(lines[-1].removeprefix(RESULT_PREFIX))
    return result


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def run_kind(kind: Any, args: argparse.Namespace, dbos: tuple[Path, str] | None) -> dict[str, Any]:
    """Every repetition on one database kind: raw, runwright, DBOS, interleaved."""
    from rawlimit import raw_commits

    n = args.events
    reps: list[dict[str, Any]] = []
    for rep in range(args.repeat):
        record: dict[str, Any] = {"repetition": rep + 1}
        with kind.fresh("raw") as target:
            record["raw"] = raw_commits(target, n)
        with kind.fresh("rw") as target:
            record["runwright"] = measure_runwright(target, n)
        if dbos is not None:
            with kind.fresh("dbos1") as target:
                record["dbos_serial"] = measure_dbos(dbos[0], target, n, "1")
            with kind.fresh("dbos") as target:
                record["dbos"] = measure_dbos(dbos[0], target, n, "none")
        reps.append(record)
        print(
            f"{kind.name} rep {rep + 1}: "
            + json.dumps({k: v.get("seconds") for k, v in record.items() if isinstance(v, dict)})
        )
    raw = _median([r["raw"]["seconds"] for r in reps])
    ours = _median([r["runwright"]["seconds"] for r in reps])
    peer = _median([r["dbos"]["seconds"] for r in reps if r.get("dbos", {}).get("ok")])
    serial = _median(
        [r["dbos_serial"]["seconds"] for r in reps if r.get("dbos_serial", {}).get("ok")]
    )
    return {
        "events": n,
        "raw": {"median_seconds": raw, "per_commit_us": raw / n * 1e6 if raw else None},
        "runwright": {
            "median_seconds": ours,
            "per_event_us": ours / n * 1e6 if ours else None,
            "events_per_second": n / ours if ours else None,
        },
        "dbos_serial": {
            "worker_concurrency": 1,
            "median_seconds": serial,
            "per_event_us": serial / n * 1e6 if serial else None,
            "events_per_second": n / serial if serial else None,
        },
        "dbos": {
            "worker_concurrency": "DBOS default (unlimited)",
            "median_seconds": peer,
            "per_event_us": peer / n * 1e6 if peer else None,
            "events_per_second": n / peer if peer else None,
            "version": dbos[1] if dbos else None,
            "errors": [
                r["dbos"].get("error") for r in reps if r.get("dbos") and not r["dbos"].get("ok")
            ],
        },
        "ratios": {
            "runwright_to_raw_commit": ours / raw if ours and raw else None,
            "dbos_to_raw_commit": peer / raw if peer and raw else None,
            "dbos_over_runwright": peer / ours if peer and ours else None,
            "dbos_serial_over_runwright": serial / ours if serial and ours else None,
        },
        "repetitions": reps,
    }


def _print(kind: str, s: dict[str, Any]) -> None:
    def f(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    rw, raw, db, db1 = s["runwright"], s["raw"], s["dbos"], s["dbos_serial"]
    print(f"\n{kind}: {s['events']} events, medians")
    print(f"  raw commit       {f(raw['per_commit_us'], '.0f'):>8} us/commit")
    for name, side in (("runwright", rw), ("DBOS, 1 at a time", db1), ("DBOS, unlimited", db)):
        per = f(side["per_event_us"], ".0f")
        rate = f(side["events_per_second"], ".1f")
        print(f"  {name:<16} {per:>8} us/event  {rate:>8} events/s")
    print(f"  runwright = {f(s['ratios']['runwright_to_raw_commit'], '.1f')} raw commits per event")
    serial_ratio = f(s["ratios"]["dbos_serial_over_runwright"], ".2f")
    dbos_ratio = f(s["ratios"]["dbos_over_runwright"], ".2f")
    print(
        f"  DBOS/ours = {serial_ratio} one at a time, {dbos_ratio} unlimited (>1: runwright faster)"
    )


def machine() -> dict[str, Any]:
    """Where and what was measured."""
    import sqlalchemy

    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "runwright": runwright.__version__,
        "git_commit": commit.stdout.strip() or None,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get(
            "RUNWRIGHT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--skip-dbos", action="store_true")
    parser.add_argument("--quick", action="store_true", help="100 events, 1 repetition")
    args = parser.parse_args(argv)
    if args.quick:
        args.events, args.repeat = 100, 1
    sys.path.insert(0, str(BENCH))
    from dbkinds import PostgresKind, SqliteKind
    from dbos_side import ensure_dbos

    dbos = None if args.skip_dbos else ensure_dbos()
    root = Path(tempfile.mkdtemp(prefix="rw-bench-wf-"))
    kinds = []
    if args.db in {"sqlite", "both"}:
        kinds.append(SqliteKind(root / "sqlite"))
    if args.db in {"postgres", "both"}:
        kinds.append(PostgresKind(args.pg_url, root / "postgres"))
    for kind in kinds:
        try:
            summary = run_kind(kind, args, dbos)
        finally:
            kind.close()
        payload = {
            "timestamp": datetime.now(UTC).isoformat(),
            "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
            "machine": machine(),
            "database": kind.info(),
            "config": {
                "events": args.events,
                "repeat": args.repeat,
                "runwright": "one in-process worker; SQLite WAL + synchronous=FULL; "
                "PostgreSQL defaults",
                "dbos": "one process, queue polling 0.01 s, enqueue in one transaction; "
                "worker_concurrency 1 (dbos_serial) and unlimited (dbos)",
            },
            **summary,
        }
        suffix = "-quick" if args.quick else ""
        out = BENCH / "results" / f"workflows-{kind.name}{suffix}.json"
        out.write_text(json.dumps(payload, indent=2) + "\n")
        _print(kind.name, summary)
        print(f"  → {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
