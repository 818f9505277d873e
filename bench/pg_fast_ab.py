"""Does PostgreSQL's one-statement step record pay? W1 (or W2) with it and without it.

    .venv/bin/python bench/pg_fast_ab.py --units 1000 --repeat 3

On PostgreSQL a finished step that was not begun is recorded by one statement of data-modifying
CTEs (``store/core/pg_fast.py``), one round trip in autocommit, instead of the general path's
transaction (the fenced UPDATE of the run, the event insert, the attempt insert and the memo
insert, then COMMIT). This script runs the same workload on fresh PostgreSQL databases with the
fast path on (as shipped) and off (``WorkerOps._record_step_fast`` answering False, so every
step takes the general path), alternating the two in each repetition so that the machine's
drift touches both alike, and prints per step the drain's wall time and CPU time (user + system
of this process, all threads: the worker, the driver, not the server), medians of the
repetitions. It writes ``bench/results/pg-fast-ab.json`` (``--out`` to change).

runwright is imported from a copy of ``src/`` taken at start-up, as ``bench_core.py`` does.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_core  # noqa: E402
import report  # noqa: E402

MODES = ("fast", "general")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=["w1", "w2"], default="w1")
    parser.add_argument("--units", type=int, default=1000, help="W1 steps or W2 runs")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each mode")
    parser.add_argument("--pg-url", default=bench_core._default_pg_url())
    parser.add_argument("--out", default=str(bench_core.RESULTS_DIR / "pg-fast-ab.json"))
    parser.add_argument("--no-src-snapshot", action="store_true")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.units < 1:
        parser.error("--repeat and --units must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    _, source = bench_core.load_runwright(snapshot=not args.no_src_snapshot)
    # Imported after the snapshot is on sys.path, so that they use the same runwright.
    import profile_core
    import runwright_side
    from dbkinds import PostgresKind, scratch_root
    from runwright.store.core.worker_ops import WorkerOps

    print(f"runwright {source['version']} from {source['imported_from']}", file=sys.stderr)
    field = {"w1": "w1_steps", "w2": "w2_runs"}[args.workload]
    sizes = dataclasses.replace(bench_core.FULL, **{field: args.units})
    real = WorkerOps._record_step_fast

    hits: dict[str, list[int]] = {m: [] for m in MODES}  # steps the one statement recorded

    def counted(self: Any, *a: Any, **kw: Any) -> bool:
        answer = bool(real(self, *a, **kw))
        hits["fast"][-1] += answer
        return answer

    def general_only(self: Any, *a: Any, **kw: Any) -> bool:
        return False

    profile_core.warm_up()
    root = scratch_root(None)
    kind = PostgresKind(args.pg_url, root)
    database = kind.info()
    spent: dict[str, list[tuple[float, float, float]]] = {m: [] for m in MODES}
    try:
        for rep in range(args.repeat):
            for mode in MODES if rep % 2 == 0 else reversed(MODES):
                hits[mode].append(0)
                WorkerOps._record_step_fast = counted if mode == "fast" else general_only  # type: ignore[method-assign]
                try:
                    with kind.fresh(f"ab{mode}{rep}") as target:
                        client = runwright_side.open_client(target)
                        client.close()  # schema created outside the timed part
                        with profile_core.drain_clock(spent[mode]):
                            runwright_side.measure(target, args.workload, sizes)
                finally:
                    WorkerOps._record_step_fast = real  # type: ignore[method-assign]
                wall, user, system = (x / args.units * 1e6 for x in spent[mode][-1])
                print(
                    f"rep {rep + 1} {mode:<7}: {wall:,.0f} us/unit wall, "
                    f"CPU {user + system:,.0f} us/unit; {hits[mode][-1]} steps recorded by the "
                    "one statement",
                    file=sys.stderr,
                )
    finally:
        kind.close()
    result: dict[str, Any] = {
        "benchmark": "pg_fast A/B",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.executable).name, *sys.argv],
        "workload": args.workload,
        "units": args.units,
        "repeat": args.repeat,
        "database": database,
        "machine": bench_core.machine_info(source),
        "modes": {
            "fast": "one statement of data-modifying CTEs per finished step (as shipped)",
            "general": "_record_step_fast answers False: advance + inserts + COMMIT",
        },
    }
    for mode in MODES:
        walls = [w / args.units * 1e6 for w, _, _ in spent[mode]]
        cpus = [(u + s) / args.units * 1e6 for _, u, s in spent[mode]]
        result[mode] = {
            "wall_us_per_unit": walls,
            "cpu_us_per_unit": cpus,
            "median_wall_us": statistics.median(walls),
            "median_cpu_us": statistics.median(cpus),
            "steps_recorded_by_one_statement": hits[mode],
        }
    fast, general = result["fast"], result["general"]
    result["general_over_fast"] = {
        "wall": general["median_wall_us"] / fast["median_wall_us"],
        "cpu": general["median_cpu_us"] / fast["median_cpu_us"],
    }
    report.write_json(Path(args.out), result)
    unit = "step" if args.workload == "w1" else "run"
    print(f"{args.workload} on PostgreSQL, {args.units} units, medians of {args.repeat}:")
    for mode in MODES:
        r = result[mode]
        print(
            f"  {mode:<8} {r['median_wall_us']:8,.0f} us/{unit} wall  "
            f"{r['median_cpu_us']:8,.0f} us/{unit} CPU"
        )
    ratio = result["general_over_fast"]
    print(f"  general / fast: wall {ratio['wall']:.2f}x, CPU {ratio['cpu']:.2f}x")
    print(f"results written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
