"""Profile the workflow benchmark's runwright side: SQL, transactions, store calls, Python.

    .venv/bin/python bench/profile_workflows.py --db sqlite --events 200 [--no-cprofile]

Deploys the benchmark's workflow (one producer run publishing N events, then one consumer run
per event: prepare → mutate → next → commit) on a fresh database and drains it with one
in-process worker, exactly as ``bench_workflows.py`` measures it, and prints per event: the
workflow-store and core-store methods called (count and wall time), the worker's tickers, the
transactions committed, the SQL statements by shape (count and driver time), and a cProfile
listing. The counts do not depend on the machine's load; the times do. Nothing is written to
bench/results.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
for path in (BENCH_DIR, BENCH_DIR.parent / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import bench_core  # noqa: E402
import bench_workflows  # noqa: E402
from dbkinds import PostgresKind, SqliteKind, scratch_root  # noqa: E402
from profile_core import ticker_classes, warm_up  # noqa: E402
from profiling import MethodTimer, Profile  # noqa: E402
from runwright.engine import tickers  # noqa: E402
from runwright.store.core.system_database import SystemDatabase  # noqa: E402
from runwright.store.workflows.store import WorkflowStore  # noqa: E402


def main(argv: list[str]) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="profile the workflow benchmark (runwright)")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--pg-url", default=bench_core._default_pg_url())
    parser.add_argument("--top", type=int, default=40, help="rows of each listing")
    parser.add_argument("--no-cprofile", action="store_true", help="counts and timings only")
    args = parser.parse_args(argv)
    warm_up()
    importlib.import_module("runwright.workflows.jobs")
    root = scratch_root(None)
    kind = SqliteKind(root) if args.db == "sqlite" else PostgresKind(args.pg_url, root)
    profile = Profile(
        MethodTimer(SystemDatabase, WorkflowStore, *ticker_classes()),
        cprofile=not args.no_cprofile,
        functions=[(tickers, "run_tickers")],
    )
    try:
        with kind.fresh("profwf") as target, profile.active():
            out = bench_workflows.measure_runwright(target, args.events)
    finally:
        kind.close()
        shutil.rmtree(root, ignore_errors=True)
    n = args.events
    print(
        f"workflows on {args.db}: {out['seconds']:.3f}s for {n} events, {out['runs']} runs "
        f"({out['seconds'] / n * 1e6:,.0f} us/event"
        f"{', under cProfile' if not args.no_cprofile else ''}); the deploy and the schema "
        "creation are in the counts below, not in the time above"
    )
    print(profile.report(n, top=args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
