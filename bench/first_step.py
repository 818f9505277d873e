"""Time to first step: how soon an idle worker starts a run enqueued by another process.

    .venv/bin/python bench/first_step.py --db both --samples 30

One ``runwright worker`` process per database, started with the default poll interval
(``poll_seconds`` = 0.5 s: polling is the correctness path, the wake-up signal the fast one:
LISTEN/NOTIFY on PostgreSQL, a local datagram socket on SQLite). Once it is idle, this process
enqueues one run of ``bench.stamp`` at a time, after a random pause of 0.3 to 0.8 s (so the
worker is asleep each time, at a random point of its poll interval). The delay of a sample is
from the moment ``start()`` returned (the run committed) to the moment the run's first step
began in the worker, both read from the machine's clock (``time.time()``). With polling alone
the median would be about half the poll interval (~250 ms).

Prints the median, the 90th percentile and the largest delay per database, and writes
``bench/results/first-step-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import workloads  # noqa: E402
from dbkinds import DEFAULT_PG_URL, PostgresKind, SqliteKind, Target, scratch_root  # noqa: E402
from runwright_side import open_client  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
SRC_DIR = BENCH_DIR.parent / "src"


def _worker(target: Target, home: Path) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        RUNWRIGHT_HOME=str(home),
        RUNWRIGHT_DATABASE_URL=target.runwright_url,
        PYTHONPATH=os.pathsep.join(
            [str(BENCH_DIR), str(SRC_DIR), os.environ.get("PYTHONPATH", "")]
        ),
    )
    env.pop("RUNWRIGHT_POLL_SECONDS", None)  # the default poll interval
    argv = [sys.executable, "-m", "runwright", "worker", "--import", "workloads", "--quiet"]
    out = (target.workdir / "worker.out").open("ab")
    return subprocess.Popen(argv, env=env, stdout=out, stderr=out, start_new_session=True)


def _stamp_of(client: Any, run_id: str, deadline: float) -> float:
    """The time the run's first step began (the stamp its step returned), waiting for it."""
    while time.monotonic() < deadline:
        run = client.get(run_id)
        if run.result is not None:
            return float(run.result)
        time.sleep(0.005)
    raise RuntimeError(f"run {run_id} did not run within the deadline")


def measure(target: Target, samples: int, rng: random.Random) -> dict[str, Any]:
    """Start a worker, let it go idle, then enqueue ``samples`` runs one at a time."""
    with open_client(target) as client:
        worker = _worker(target, client.settings.home)
        try:
            warm = client.start(workloads.stamp)  # the worker has started and is idle after it
            _stamp_of(client, warm.run_id, time.monotonic() + 60)
            delays: list[float] = []
            for _ in range(samples):
                time.sleep(rng.uniform(0.3, 0.8))
                run = client.start(workloads.stamp)
                committed = time.time()
                began = _stamp_of(client, run.run_id, time.monotonic() + 30)
                delays.append(began - committed)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    ordered = sorted(delays)
    return {
        "samples_ms": [round(d * 1000, 2) for d in delays],
        "median_ms": statistics.median(delays) * 1000,
        "p90_ms": ordered[int(0.9 * (len(ordered) - 1))] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def main(argv: list[str]) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="time from enqueue to the first step")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-url", default=os.environ.get("RUNWRIGHT_BENCH_PG_URL", DEFAULT_PG_URL)
    )
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args(argv)
    root = scratch_root(None)
    kinds: list[Any] = []
    if args.db in ("sqlite", "both"):
        kinds.append(SqliteKind(root))
    if args.db in ("postgres", "both"):
        kinds.append(PostgresKind(args.pg_url, root))
    RESULTS_DIR.mkdir(exist_ok=True)
    for kind in kinds:
        try:
            with kind.fresh("firststep") as target:
                got = measure(target, args.samples, random.Random(args.seed))
            result = {
                "benchmark": "first_step",
                "db": kind.name,
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "poll_seconds": 0.5,
                "command": f"bench/first_step.py --db {kind.name} --samples {args.samples}",
                **got,
            }
            (RESULTS_DIR / f"first-step-{kind.name}.json").write_text(
                json.dumps(result, indent=1) + "\n"
            )
            print(
                f"{kind.name}: an idle worker started a new run's first step "
                f"{got['median_ms']:.1f} ms after its commit (median of {args.samples}; "
                f"90th percentile {got['p90_ms']:.1f} ms, largest {got['max_ms']:.1f} ms)"
            )
        finally:
            kind.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
