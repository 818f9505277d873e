"""Profile dashboard pages: SQL statements per page (count, shapes, driver time) and page times.

    .venv/bin/python bench/profile_dashboard.py --db sqlite --keep DIR [--runs 20000 ...]
        [--pages overview,inbox] [--repeat 9] [--shapes] [--pyinstrument PAGE]

Fills a store with ``bench_dashboard``'s fill (same options, smaller defaults) the first time,
and keeps it in ``--keep DIR`` (SQLite: ``DIR/state.db``; PostgreSQL: a database named
``--pg-database``), so that later calls measure the same rows without filling again (the store
is opened, and so migrated, each time). For each page it prints the statements one request sends
(counts do not depend on the machine's load), their driver time and the median page time.
``--shapes`` lists every statement shape of each page; ``--pyinstrument PAGE`` prints a
pyinstrument profile of that page. Nothing is written to bench/results.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
for path in (BENCH_DIR, BENCH_DIR.parent / "src"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

import bench_dashboard  # noqa: E402
import dbkinds  # noqa: E402
from profiling import SqlTrace  # noqa: E402
from runwright import Client, load_settings  # noqa: E402
from runwright.web import create_app  # noqa: E402
from runwright.web.security import SESSION_COOKIE, session_value  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def _open(args: argparse.Namespace) -> tuple[Client, bool]:
    """The kept store (created if new) and whether it still needs filling."""
    keep = Path(args.keep)
    keep.mkdir(parents=True, exist_ok=True)
    marker = keep / f"filled-{args.db}.json"
    if args.db == "sqlite":
        url = f"sqlite:///{keep / 'state.db'}"
    else:
        admin = dbkinds.pg_admin_url(args.pg_url)
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (args.pg_database,)
            ).fetchone()
            if not exists:
                marker.unlink(missing_ok=True)
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(args.pg_database)))
        target = admin.set(database=args.pg_database, drivername="postgresql+psycopg")
        url = target.render_as_string(hide_password=False)
    settings = load_settings(
        env={}, overrides={"home": keep / f"home-{args.db}", "database_url": url}
    )
    return Client.open(settings), not marker.exists()


def _fill(client: Client, args: argparse.Namespace) -> dict[str, Any]:
    marker = Path(args.keep) / f"filled-{args.db}.json"
    if marker.exists():
        loaded: dict[str, Any] = json.loads(marker.read_text())
        return loaded
    filled = bench_dashboard.fill(client, args.runs, args.events)
    filled.update(bench_dashboard.fill_workflows(client, args.wf_events, args.wf_inputs))
    filled.update(bench_dashboard.fill_plans(client, args.plans))
    ids = filled["ids"]
    values = {"middle": ids[len(ids) // 2], "heavy": filled["heavy"], "typical": ids[len(ids) // 3]}
    values.update({k: v for k, v in filled.items() if k.startswith(("wf_", "plan_"))})
    marker.write_text(json.dumps(values))
    return values


def _direct(app: Any, url: str, headers: dict[str, str]) -> Any:
    """The page's endpoint called in this thread (pyinstrument sees only its own thread)."""
    from starlette.requests import Request
    from starlette.routing import Match

    path, _, query = url.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "scheme": "http",
        "server": ("testserver", 80),
        "query_string": query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }
    for route in app.routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            scope.update(child)
            return lambda: route.endpoint(Request(scope))
    raise LookupError(url)


def main(argv: list[str]) -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description="profile dashboard pages")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--keep", required=True, help="directory keeping the filled store")
    parser.add_argument("--pg-url", default=dbkinds.DEFAULT_PG_URL)
    parser.add_argument("--pg-database", default="runwright_dashprof")
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--wf-events", type=int, default=200_000)
    parser.add_argument("--wf-inputs", type=int, default=50_000)
    parser.add_argument("--plans", type=int, default=5_000)
    parser.add_argument("--pages", default="", help="comma-separated page names (default all)")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--shapes", action="store_true", help="list statement shapes per page")
    parser.add_argument("--pyinstrument", default="", help="profile this page with pyinstrument")
    args = parser.parse_args(argv)
    client, _new = _open(args)
    try:
        values = _fill(client, args)
        app = create_app(client, token=bench_dashboard.TOKEN)
        http = TestClient(app)
        http.cookies.set(SESSION_COOKIE, session_value(bench_dashboard.TOKEN))
        wanted = {p.strip() for p in args.pages.split(",") if p.strip()}
        print(f"{'page':<34}{'stmts':>6}{'sql ms':>8}{'median':>8}{'min':>8}")
        for name, template in bench_dashboard.PAGES:
            if wanted and not any(w in name for w in wanted):
                continue
            url = template.format(**values)
            headers = {}
            if url.endswith("#fragment"):
                url, headers = url[: -len("#fragment")], {"X-Fragment": "1"}
            response = http.get(url, headers=headers)
            assert response.status_code == 200, (url, response.status_code)
            trace = SqlTrace()
            with trace.installed():
                http.get(url, headers=headers)
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                http.get(url, headers=headers)
                times.append((time.perf_counter() - t) * 1000)
            print(
                f"{name:<34}{trace.total():>6}{sum(trace.seconds.values()) * 1e3:>8.1f}"
                f"{statistics.median(times):>8.1f}{min(times):>8.1f}",
                flush=True,
            )
            if args.shapes:
                for key, n in sorted(trace.counts.items(), key=lambda kv: -trace.seconds[kv[0]]):
                    print(f"      {n:>4} {trace.seconds[key] * 1e3:>7.2f}ms  {key}")
            if args.pyinstrument and args.pyinstrument in name:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                call = _direct(app, url, headers)
                with profiler:
                    for _ in range(5):
                        call()
                print(profiler.output_text(unicode=False, color=False, show_all=False))
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
