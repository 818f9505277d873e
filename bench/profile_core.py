"""Profile one runwright workload of the core benchmark: SQL, transactions, store calls, Python.

    .venv/bin/python bench/profile_core.py --db postgres --workload w2 --quick

Runs the workload once on a fresh database and prints, per unit of the workload: the store
methods the engine called (count and wall time), the worker's tickers, the transactions
committed, the SQL statements sent grouped by shape (count and driver time), and a cProfile
listing (``--no-cprofile`` to leave it out: it slows Python down about twice). The counts do not
depend on the machine's load; the times do. Nothing is written to bench/results.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import bench_core  # noqa: E402
import runwright_side  # noqa: E402
from dbkinds import PostgresKind, SqliteKind, scratch_root  # noqa: E402
from profiling import MethodTimer, Profile  # noqa: E402
from runwright.engine import tickers  # noqa: E402
from runwright.store.sql_store import SqlStore  # noqa: E402


def warm_up() -> None:
    """Import what a worker imports on its first start, so that it is not in the profile."""
    for name in tickers.TICKER_MODULES:
        importlib.import_module(name)


def ticker_classes() -> list[type]:
    """What runs the worker's tickers (timed with the store)."""
    found = getattr(tickers, "Tickers", None)
    return [found] if isinstance(found, type) else []


def main(argv: list[str]) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="profile one runwright core workload")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workload", choices=list(bench_core.WORKLOADS), default="w2")
    parser.add_argument("--pg-url", default=bench_core._default_pg_url())
    parser.add_argument("--quick", action="store_true", help="the benchmark's --quick sizes")
    parser.add_argument("--top", type=int, default=30, help="rows of each listing")
    parser.add_argument("--no-cprofile", action="store_true", help="counts and timings only")
    args = parser.parse_args(argv)
    sizes = bench_core.QUICK if args.quick else bench_core.FULL
    units = int(bench_core.describe(args.workload, sizes)["units"])
    warm_up()
    root = scratch_root(None)
    kind = SqliteKind(root) if args.db == "sqlite" else PostgresKind(args.pg_url, root)
    profile = Profile(
        MethodTimer(SqlStore, *ticker_classes()),
        cprofile=not args.no_cprofile,
        functions=[(tickers, "run_tickers")],
    )
    try:
        with kind.fresh(f"prof{args.workload}") as target:
            client = runwright_side.open_client(target)
            client.close()  # schema created outside the profile; measure() reopens it
            with profile.active():
                out = runwright_side.measure(target, args.workload, sizes)
    finally:
        kind.close()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{args.workload} on {args.db}: {out['seconds']:.3f}s for {units} units "
        f"({out['seconds'] / units * 1e6:,.0f} us/unit"
        f"{', under cProfile' if not args.no_cprofile else ''})"
    )
    print(profile.report(units, top=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
