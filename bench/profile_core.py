"""Profile one runwright workload of the core benchmark: SQL, transactions, store calls, Python.

    .venv/bin/python bench/profile_core.py --db postgres --workload w2 --quick
    .venv/bin/python bench/profile_core.py --db sqlite --workload w1 --units 300 --bare --repeat 5
    .venv/bin/python bench/profile_core.py --db sqlite --workload w2 --units 100 --instructions

Runs the workload on a fresh database and prints, per unit of the workload: the store
methods the engine called (count and wall time), the worker's tickers, the transactions
committed, the SQL statements sent grouped by shape (count and driver time), and a cProfile
listing (``--no-cprofile`` to leave it out: it slows Python down about twice). The counts do not
depend on the machine's load; the times do. Nothing is written to bench/results.

Every repetition also reports the CPU time of the measured part (the worker's drain: W1's run,
W2's queue), per unit: the process's user + system time, all threads. On a machine shared with
other work, CPU time swings much less than wall time; ``--bare`` measures it with nothing
installed (no statement trace, no method timer, no cProfile) and ``--repeat`` takes a median.
``--src DIR`` imports runwright from another source tree (a copy of an older ``src``), so two
versions can be compared in alternation on the same machine. ``--instructions`` runs the same
command again under valgrind's callgrind, counting only the drain, and prints machine
instructions per unit: a figure that repeats to about 0.1 % whatever else the machine does.
"""

from __future__ import annotations

import argparse
import importlib
import resource
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))


def _source_from_argv(argv: list[str]) -> None:
    """Honour ``--src DIR`` before runwright is imported."""
    if "--src" in argv:
        sys.path.insert(0, str(Path(argv[argv.index("--src") + 1]).resolve()))


_source_from_argv(sys.argv[1:])

import bench_core  # noqa: E402
import runwright_side  # noqa: E402
from dbkinds import PostgresKind, SqliteKind, scratch_root  # noqa: E402
from profiling import (  # noqa: E402
    MethodTimer,
    Profile,
    callgrind_toggles,
    count_instructions,
    under_callgrind,
)
from runwright.engine import tickers  # noqa: E402
from runwright.store.core.system_database import SystemDatabase  # noqa: E402


def warm_up() -> None:
    """Import what a worker imports on its first start, so that it is not in the profile."""
    for name in tickers.TICKER_MODULES:
        importlib.import_module(name)


def ticker_classes() -> list[type]:
    """What runs the worker's tickers (timed with the store)."""
    found = getattr(tickers, "Tickers", None)
    return [found] if isinstance(found, type) else []


@contextmanager
def drain_clock(spent: list[tuple[float, float, float]]) -> Iterator[None]:
    """Time every worker drain the workload makes; append (wall, user, system) to ``spent``."""
    original: Callable[..., int] = runwright_side._drain
    totals = [0.0, 0.0, 0.0]
    start, stop = callgrind_toggles() if under_callgrind() else (_nothing, _nothing)

    def timed(client: Any) -> int:
        wall, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        start()
        try:
            return original(client)
        finally:
            stop()
            after = resource.getrusage(resource.RUSAGE_SELF)
            totals[0] += time.perf_counter() - wall
            totals[1] += after.ru_utime - before.ru_utime
            totals[2] += after.ru_stime - before.ru_stime

    runwright_side._drain = timed
    try:
        yield
    finally:
        runwright_side._drain = original
        spent.append((totals[0], totals[1], totals[2]))


def _nothing() -> None:
    pass


def slow_tickers() -> None:
    """Under callgrind (about 50 times slower) tick only once, as a normal-speed run does."""
    original = tickers.Tickers.__init__

    def init(self: Any, found: list[Any], interval: float = 1.0) -> None:
        original(self, found, interval * 1e6)

    tickers.Tickers.__init__ = init  # type: ignore[method-assign]


def instructions(args: argparse.Namespace, argv: list[str], units: int) -> int:
    """Re-run this command under callgrind; print instructions per unit."""
    rest = [a for a in argv if a != "--instructions"]
    total, output = count_instructions(__file__, [*rest, "--bare", "--repeat", "1"])
    print(output.rstrip())
    print(
        f"{args.workload} on {args.db}: {total / units:,.0f} instructions per unit in the drain "
        f"(callgrind, {units} units)"
    )
    return 0


def sized(args: argparse.Namespace) -> Any:
    """The workload sizes: the benchmark's (or its --quick ones), with --units applied."""
    sizes = bench_core.QUICK if args.quick else bench_core.FULL
    if args.units:
        field = {"w1": "w1_steps", "w2": "w2_runs", "w1g": "w1_steps", "w2g": "w2_runs"}.get(
            args.workload
        )
        if field is None:
            raise SystemExit("--units applies to w1, w2, w1g and w2g")
        sizes = replace(sizes, **{field: args.units})
    return sizes


def main(argv: list[str]) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="profile one runwright core workload")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workload", choices=list(bench_core.WORKLOADS), default="w2")
    parser.add_argument("--pg-url", default=bench_core._default_pg_url())
    parser.add_argument("--quick", action="store_true", help="the benchmark's --quick sizes")
    parser.add_argument("--units", type=int, default=0, help="W1 steps or W2 runs")
    parser.add_argument("--repeat", type=int, default=1, help="fresh database each time")
    parser.add_argument("--top", type=int, default=30, help="rows of each listing")
    parser.add_argument("--no-cprofile", action="store_true", help="counts and timings only")
    parser.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    parser.add_argument("--bare", action="store_true", help="CPU and wall time only")
    parser.add_argument("--src", help="import runwright from this directory (holds runwright/)")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (valgrind, gcc)"
    )
    args = parser.parse_args(argv)
    sizes = sized(args)
    units = int(bench_core.describe(args.workload, sizes)["units"])
    if args.instructions:
        return instructions(args, argv, units)
    if under_callgrind():
        slow_tickers()
    warm_up()
    root = scratch_root(None)
    kind = SqliteKind(root) if args.db == "sqlite" else PostgresKind(args.pg_url, root)
    profile = None
    if not args.bare:
        profile = Profile(
            MethodTimer(SystemDatabase, *ticker_classes()),
            cprofile=not args.no_cprofile,
            functions=[(tickers, "run_tickers")],
        )
    spent: list[tuple[float, float, float]] = []
    try:
        for rep in range(args.repeat):
            with kind.fresh(f"prof{args.workload}{rep}") as target:
                client = runwright_side.open_client(target)
                client.close()  # schema created outside the profile; measure() reopens it
                with profile.active() if profile else nullcontext(), drain_clock(spent):
                    runwright_side.measure(target, args.workload, sizes)
            wall, user, system = (x / units * 1e6 for x in spent[-1])
            print(
                f"{args.workload} on {args.db}, rep {rep + 1}: drain {wall:,.0f} us/unit wall, "
                f"CPU {user + system:,.0f} us/unit (user {user:,.0f}, system {system:,.0f}; "
                f"{units} units"
                f"{'' if profile is None else ', traced'}"
                f"{', under cProfile' if profile and not args.no_cprofile else ''})"
            )
    finally:
        kind.close()
        shutil.rmtree(root, ignore_errors=True)
    if args.repeat > 1:
        cpu = sorted((u + s) / units * 1e6 for _, u, s in spent)
        wall = statistics.median(w for w, _, _ in spent) / units * 1e6
        print(
            f"{args.repeat} repetitions: drain {wall:,.0f} us/unit wall (median), CPU "
            f"{statistics.median(cpu):,.0f} us/unit median, {cpu[0]:,.0f} lowest"
        )
    if profile is not None:
        print(profile.report(units * args.repeat, top=args.top, sort=args.sort))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
