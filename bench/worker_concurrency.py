"""How many runs a worker should run at once: W2 drained with 1, 2, 4, 8 runs at once.

    .venv/bin/python bench/worker_concurrency.py --db both --repeat 3

W2 is many one-step no-op runs (``bench.leaf``), all enqueued first, then drained. Two ways:

- ``threads``: one in-process worker (``Worker(runs_at_once=N).run(until_idle=True)``), timed
  from its start until it returned;
- ``processes`` (PostgreSQL only by default): N ``runwright worker --until-idle -q
  --runs-at-once 1`` processes; timed from the first run's start to the last run's end as
  recorded in the database (so process start-up is not counted);
- with ``--outputs``: one such process printing a line per run (``--verbose``), the default
  summary, or nothing (``-q``), its output going to a file: what the output costs.

Every measurement uses a fresh database; medians of ``--repeat``. Prints a table and writes
``bench/results/worker-concurrency-<db>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import workloads  # noqa: E402
from dbkinds import DEFAULT_PG_URL, PostgresKind, SqliteKind, Target, scratch_root  # noqa: E402
from runwright_side import durability, open_client  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
SRC_DIR = BENCH_DIR.parent / "src"
#: The CLI worker's output modes and the flag that picks each.
OUTPUTS = {"verbose": "--verbose", "summary": "", "quiet": "--quiet"}


def _check(client: Any, runs: int) -> None:
    counts = client.counts()
    if counts.get("succeeded") != runs:
        raise RuntimeError(f"drain left runs in states {counts}")


def threads(target: Target, runs: int, at_once: int) -> dict[str, Any]:
    """Enqueue ``runs`` one-step runs, then time one worker running ``at_once`` at a time."""
    with open_client(target) as client:
        client.start_many(workloads.leaf, [(i,) for i in range(runs)])
        worker = client.worker(register=False, runs_at_once=at_once)
        started = time.perf_counter()
        stats = worker.run(until_idle=True)
        seconds = time.perf_counter() - started
        _check(client, runs)
        return {"seconds": seconds, "claimed": stats.claimed, "durability": durability(client)}


def processes(
    target: Target, runs: int, count: int, at_once: int, output: str = "--quiet"
) -> dict[str, Any]:
    """Enqueue ``runs`` runs, then drain them with ``count`` worker processes printing to a
    file with ``output`` (``--quiet``, ``--verbose`` or ``""`` for the default summary); the
    time is first start to last end as the database recorded them."""
    with open_client(target) as client:
        client.start_many(workloads.leaf, [(i,) for i in range(runs)])
        env = dict(
            os.environ,
            RUNWRIGHT_HOME=str(client.settings.home),
            RUNWRIGHT_DATABASE_URL=target.runwright_url,
            RUNWRIGHT_POLL_SECONDS="0.01",
            PYTHONPATH=os.pathsep.join(
                [str(BENCH_DIR), str(SRC_DIR), os.environ.get("PYTHONPATH", "")]
            ),
        )
        argv = [sys.executable, "-m", "runwright", "worker", "--import", "workloads"]
        argv += ["--until-idle", f"--runs-at-once={at_once}", *([output] if output else [])]
        with (target.workdir / "worker.out").open("ab") as out:
            children = [
                subprocess.Popen(argv, env=env, stdout=out, stderr=out) for _ in range(count)
            ]
            codes = [child.wait(timeout=600) for child in children]
        if any(codes):
            raise RuntimeError(f"worker processes exited {codes}")
        _check(client, runs)
        listed = client.list_runs(limit=runs + 10)
        first = min(r.started_at for r in listed if r.started_at is not None)
        last = max(r.ended_at for r in listed if r.ended_at is not None)
        return {"seconds": (last - first).total_seconds(), "durability": durability(client)}


def _median(samples: list[dict[str, Any]], runs: int) -> dict[str, Any]:
    seconds = statistics.median(s["seconds"] for s in samples)
    return {
        "seconds": seconds,
        "runs_per_second": runs / seconds,
        "us_per_run": seconds / runs * 1e6,
        "samples": [s["seconds"] for s in samples],
    }


def measure_db(kind: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Every configuration on one database kind, interleaved across repeats."""
    configs: list[tuple[str, int, int]] = [("threads", 1, n) for n in args.at_once]
    if kind.name == "postgres" or args.processes_on_sqlite:
        configs += [("processes", p, 1) for p in args.processes]
    if args.outputs:  # what the output costs: one process, one run at once, to a file
        configs += [(f"output {mode}", 1, 1) for mode in OUTPUTS]
    samples: dict[tuple[str, int, int], list[dict[str, Any]]] = {c: [] for c in configs}
    durable: dict[str, Any] = {}
    for rep in range(args.repeat):
        for config in configs:
            how, procs, at_once = config
            with kind.fresh(f"wc{rep}") as target:
                if how == "threads":
                    got = threads(target, args.runs, at_once)
                elif how.startswith("output "):
                    got = processes(target, args.runs, 1, 1, OUTPUTS[how.split()[1]])
                else:
                    got = processes(target, args.runs, procs, at_once)
            durable = got.pop("durability", durable)
            samples[config].append(got)
            print(
                f"{kind.name} {how} processes={procs} runs_at_once={at_once} "
                f"rep {rep + 1}: {got['seconds']:.2f}s",
                file=sys.stderr,
            )
    rows = [
        {
            "how": how,
            "processes": procs,
            "runs_at_once": n,
            **_median(samples[(how, procs, n)], args.runs),
        }
        for how, procs, n in configs
    ]
    return {"db": kind.name, "durability": durable, "info": kind.info(), "rows": rows}


def _table(result: dict[str, Any], runs: int) -> Table:
    table = Table(
        "how",
        "processes",
        "runs at once",
        "seconds",
        "runs/s",
        "µs/run",
        title=f"W2 on {result['db']}: {runs} one-step runs drained (median)",
    )
    base = result["rows"][0]["runs_per_second"]
    for row in result["rows"]:
        table.add_row(
            row["how"],
            str(row["processes"]),
            str(row["runs_at_once"]),
            f"{row['seconds']:.2f}",
            f"{row['runs_per_second']:.0f} ({row['runs_per_second'] / base:.2f}x)",
            f"{row['us_per_run']:.0f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--at-once", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--processes-on-sqlite", action="store_true")
    parser.add_argument(
        "--outputs", action="store_true", help="also time the CLI worker's output modes"
    )
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--scratch", help="where database files and homes go")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/results")
    parser.add_argument(
        "--suffix", default="", help="results go to worker-concurrency-<db><suffix>.json"
    )
    args = parser.parse_args()
    root = scratch_root(args.scratch)
    kinds: list[Any] = []
    if args.db in {"sqlite", "both"}:
        kinds.append(SqliteKind(root))
    if args.db in {"postgres", "both"}:
        kinds.append(PostgresKind(args.pg_url, root))
    console = Console(width=120)
    for kind in kinds:
        try:
            result = measure_db(kind, args)
        finally:
            kind.close()
        result.update(
            measured_at=datetime.now(UTC).isoformat(timespec="seconds"),
            command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            runs=args.runs,
            repeat=args.repeat,
            machine={
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "loadavg_at_end": os.getloadavg(),
            },
        )
        console.print(_table(result, args.runs))
        if not args.no_write:
            RESULTS_DIR.mkdir(exist_ok=True)
            out = RESULTS_DIR / f"worker-concurrency-{kind.name}{args.suffix}.json"
            out.write_text(json.dumps(result, indent=2, default=str) + "\n")
            console.print(f"wrote {out.relative_to(BENCH_DIR.parent)}")


if __name__ == "__main__":
    main()
