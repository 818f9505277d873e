"""Profile one runwright workload of the core benchmark (cProfile, plus store-call timings).

    .venv/bin/python bench/profile_core.py --db postgres --workload w2 --quick

Prints the functions with the most cumulative time and, for every public store method the
engine called, how many calls it made and their mean wall time, so a slow workload can be
traced to the transactions behind it. Nothing is written to bench/results.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

import bench_core  # noqa: E402
import runwright_side  # noqa: E402
from dbkinds import PostgresKind, SqliteKind, scratch_root  # noqa: E402
from runwright.store.sql_store import SqlStore  # noqa: E402


class StatementCounter:
    """Counts the SQL statements every engine sends, by their first keyword."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)

    def install(self) -> None:
        event.listen(Engine, "before_cursor_execute", self._seen)

    def uninstall(self) -> None:
        event.remove(Engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split(None, 1)
        self.counts[words[0].upper() if words else "?"] += 1

    def lines(self, units: int) -> list[str]:
        total = sum(self.counts.values())
        out = [f"SQL statements sent: {total} ({total / units:.1f} per unit)"]
        for word, n in sorted(self.counts.items(), key=lambda kv: -kv[1]):
            out.append(f"  {word:<10}{n:>8}{n / units:>8.1f} per unit")
        return out


class StoreTimer:
    """Wraps every public SqlStore method to count calls and sum their wall time."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        self._saved: dict[str, Callable[..., Any]] = {}

    def install(self) -> None:
        for name in dir(SqlStore):
            attr = getattr(SqlStore, name)
            if name.startswith("_") or not callable(attr) or name == "close":
                continue
            self._saved[name] = attr
            setattr(SqlStore, name, self._wrap(name, attr))

    def uninstall(self) -> None:
        for name, attr in self._saved.items():
            setattr(SqlStore, name, attr)

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.calls[name] += 1
                self.seconds[name] += time.perf_counter() - started

        return timed

    def lines(self, units: int) -> list[str]:
        rows = sorted(self.seconds.items(), key=lambda kv: -kv[1])
        out = [f"{'store method':<22}{'calls':>8}{'mean ms':>10}{'total s':>10}{'per unit ms':>13}"]
        for name, total in rows:
            n = self.calls[name]
            out.append(
                f"{name:<22}{n:>8}{total / n * 1000:>10.3f}{total:>10.3f}"
                f"{total / units * 1000:>13.3f}"
            )
        return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="profile one runwright core workload")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--workload", choices=list(bench_core.WORKLOADS), default="w2")
    parser.add_argument("--pg-url", default=bench_core._default_pg_url())
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--no-cprofile", action="store_true", help="store timings only")
    args = parser.parse_args(argv)
    sizes = bench_core.QUICK if args.quick else bench_core.FULL
    units = int(bench_core.describe(args.workload, sizes)["units"])
    root = scratch_root(None)
    kind = SqliteKind(root) if args.db == "sqlite" else PostgresKind(args.pg_url, root)
    timer = StoreTimer()
    statements = StatementCounter()
    profiler = cProfile.Profile()
    try:
        with kind.fresh(f"prof{args.workload}") as target:
            timer.install()
            statements.install()
            if not args.no_cprofile:
                profiler.enable()
            out = runwright_side.measure(target, args.workload, sizes)
            profiler.disable()
            timer.uninstall()
            statements.uninstall()
    finally:
        kind.close()
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"{args.workload} on {args.db}: {out['seconds']:.3f}s for {units} units "
        f"({out['seconds'] / units * 1e6:,.0f} us/unit)"
    )
    print("\n".join(timer.lines(units)))
    print("\n".join(statements.lines(units)))
    if not args.no_cprofile:
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(args.top)
        print(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
