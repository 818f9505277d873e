"""runwright's core benchmark: three workloads against the raw commit limit and DBOS.

    .venv/bin/python bench/bench_core.py --db both --repeat 3

W1: one run of 1,000 sequential no-op durable steps. W2: 2,000 one-step runs enqueued, then
drained by one worker (enqueue reported separately). W3: a DAG of 10 layers x 20 child runs,
each child depending on the whole previous layer. Every measurement uses a fresh database.
See bench/README.md for the definitions, the durability settings and how DBOS is configured.
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import importlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import psycopg  # noqa: E402
import sqlalchemy  # noqa: E402
from rich.console import Console  # noqa: E402

import dbos_side  # noqa: E402
import rawlimit  # noqa: E402
import report  # noqa: E402
from dbkinds import DEFAULT_PG_URL, PostgresKind, SqliteKind, scratch_root  # noqa: E402

RESULTS_DIR = BENCH_DIR / "results"
SRC_PACKAGE = BENCH_DIR.parent / "src" / "runwright"
WORKLOADS = ("w1", "w2", "w3", "w1g", "w2g")
#: W1g and W2g are W1 and W2 for a job that lets its steps share commits (group commit); DBOS
#: has no such mode, so its side runs the plain workload.
PLAIN = {"w1g": "w1", "w2g": "w2"}
DBOS_CONFIGS = ("fast", "default")  # JSON sides "dbos" and "dbos_default"
TABLE_WIDTH = 170  # when printing to a pipe or a file, where rich would otherwise use 80


@dataclass(frozen=True)
class Sizes:
    """How big each workload is."""

    w1_steps: int = 1000
    w2_runs: int = 2000
    w3_layers: int = 10
    w3_width: int = 20


FULL = Sizes()
QUICK = Sizes(w1_steps=100, w2_runs=200, w3_layers=3, w3_width=5)


def describe(workload: str, sizes: Sizes) -> dict[str, Any]:
    """What a workload is and what its unit is."""
    if workload in PLAIN:
        plain = describe(PLAIN[workload], sizes)
        return {
            **plain,
            "label": plain["label"].replace("W1", "W1g").replace("W2", "W2g"),
            "description": plain["description"] + "; runwright with group commit "
            "(DBOS: the plain workload)",
        }
    if workload == "w1":
        return {
            "label": "W1 steps",
            "description": f"one run of {sizes.w1_steps} sequential no-op durable steps",
            "units": sizes.w1_steps,
            "unit": "steps",
        }
    if workload == "w2":
        return {
            "label": "W2 drain",
            "description": f"{sizes.w2_runs} one-step runs enqueued, then drained by one worker "
            "(seconds = drain; enqueue reported separately)",
            "units": sizes.w2_runs,
            "unit": "runs",
            "has_enqueue": True,
        }
    children = sizes.w3_layers * sizes.w3_width
    return {
        "label": "W3 DAG",
        "description": f"{sizes.w3_layers} layers x {sizes.w3_width} one-step child runs, each "
        "child depending on the whole previous layer; parent starts them and waits for all",
        "units": children,
        "unit": "children",
    }


def _attempt(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement; an exception becomes an error record instead of a crash."""
    try:
        out = fn()
    except Exception as exc:
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=6),
        }
    out.setdefault("ok", True)
    return out


def load_runwright(snapshot: bool) -> tuple[ModuleType, dict[str, Any]]:
    """Import runwright (and the runwright side of the benchmark), from a snapshot by default.

    The benchmark runs for minutes; a snapshot of ``src/runwright`` taken at start-up keeps an
    edit made meanwhile (code, or a migration read from disk later) from mixing two versions
    in one run. The snapshot's digest is recorded so the numbers can be tied to the code.
    """
    info: dict[str, Any] = {"snapshot": False, "git": _git_commit()}
    if snapshot and SRC_PACKAGE.is_dir():
        dest = Path(tempfile.mkdtemp(prefix="runwright-src-"))
        atexit.register(shutil.rmtree, dest, ignore_errors=True)
        shutil.copytree(
            SRC_PACKAGE, dest / "runwright", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
        sys.path.insert(0, str(dest))
        digest = hashlib.sha256()
        for path in sorted((dest / "runwright").rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(dest)).encode() + b"\0" + path.read_bytes())
        info.update(snapshot=True, copied_from=str(SRC_PACKAGE), sha256=digest.hexdigest())
    module = importlib.import_module("runwright_side")
    runwright = importlib.import_module("runwright")
    info["imported_from"] = str(Path(runwright.__file__ or "?").parent)
    info["version"] = runwright.__version__
    return module, info


def _git_commit() -> dict[str, Any]:
    root = BENCH_DIR.parent
    if shutil.which("git") is None:
        return {}
    head = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    dirty = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
        check=False,
    )
    changed = [line[3:] for line in dirty.stdout.splitlines() if line.strip()]
    return {
        "commit": head.stdout.strip() or None,
        "src_dirty": bool(changed),
        "src_changes": changed,
    }


def machine_info(source: dict[str, Any]) -> dict[str, Any]:
    """The machine, the library versions and the runwright code the numbers come from."""
    import sqlite3

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "sqlite_version": sqlite3.sqlite_version,
        "psycopg": psycopg.__version__,
        "sqlalchemy": sqlalchemy.__version__,
        "runwright": source,
        "git": source["git"],
    }


def _progress(
    console: Console, kind: str, rep: int, workload: str, side: str, out: dict[str, Any]
) -> None:
    if out.get("ok"):
        extra = ""
        if out.get("enqueue_seconds") is not None:
            extra = f" (enqueue {out['enqueue_seconds']:.3f}s)"
        msg = f"{out['seconds']:.3f}s{extra}"
    else:
        msg = f"[red]error[/red]: {out.get('error')}"
    console.print(f"  [{kind} rep {rep + 1}] {workload} {side:<12} {msg}", markup=True)


@dataclass
class Bench:
    """What one invocation runs with."""

    args: argparse.Namespace
    sizes: Sizes
    rw: ModuleType  # runwright_side, imported from the source snapshot
    source: dict[str, Any]
    dbos: list[dbos_side.DbosOptions]  # one per DBOS configuration measured (none: skipped)
    log: Console


def run_kind(kind: Any, bench: Bench) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Every repetition of every workload on one database kind, interleaved per repetition."""
    sizes, dbos, log = bench.sizes, bench.dbos, bench.log
    reps: dict[str, dict[str, list[dict[str, Any]]]] = {
        w: {"raw": [], "runwright": [], **{d.side: [] for d in dbos}} for w in bench.args.workloads
    }
    for rep in range(bench.args.repeat):
        for workload in bench.args.workloads:
            units = int(describe(workload, sizes)["units"])
            with kind.fresh(f"raw{workload}") as target:
                out = _attempt(lambda t=target, n=units: rawlimit.raw_commits(t, n))
            reps[workload]["raw"].append(out)
            _progress(log, kind.name, rep, workload, "raw", out)
            with kind.fresh(f"rw{workload}") as target:
                out = _attempt(lambda t=target, w=workload: bench.rw.measure(t, w, sizes))
            reps[workload]["runwright"].append(out)
            _progress(log, kind.name, rep, workload, "runwright", out)
            peer_workload = PLAIN.get(workload, workload)
            for opts in dbos:
                with kind.fresh(f"{opts.side}{workload}") as target:
                    out = _attempt(
                        lambda t=target, w=peer_workload, o=opts: dbos_side.measure(t, w, sizes, o)
                    )
                reps[workload][opts.side].append(out)
                _progress(log, kind.name, rep, workload, opts.side, out)
    return reps


def _durability(reps: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
    """The effective durability settings each side reported (first successful measurement)."""
    found: dict[str, Any] = {}
    for sides in reps.values():
        for side, runs in sides.items():
            for r in runs:
                if side not in found and r.get("ok") and r.get("durability"):
                    found[side] = r["durability"]
    return found


def bench_kind(name: str, bench: Bench) -> dict[str, Any]:
    """Run one database kind and build its results document."""
    args, sizes, dbos = bench.args, bench.sizes, bench.dbos
    started = datetime.now(UTC)
    root = scratch_root(args.workdir)
    kind: SqliteKind | PostgresKind
    results: dict[str, Any] = {
        "benchmark": "core",
        "dbkind": name,
        "timestamp": started.isoformat(timespec="seconds"),
        "command": [Path(sys.executable).name, *sys.argv],
        "machine": machine_info(bench.source),
        "config": {
            "repeat": args.repeat,
            "quick": args.quick,
            "sizes": asdict(sizes),
            "runwright_poll_seconds": bench.rw.POLL_SECONDS,
            "dbos": next((d.describe() for d in dbos if d.side == "dbos"), "skipped"),
            "dbos_configs": {d.side: d.describe() for d in dbos},
        },
    }
    try:
        kind = SqliteKind(root) if name == "sqlite" else PostgresKind(args.pg_url, root)
        results["database"] = kind.info()
    except Exception as exc:
        results["error"] = f"{type(exc).__name__}: {exc}"
        results["workloads"] = {}
        shutil.rmtree(root, ignore_errors=True)
        return results
    t0 = time.perf_counter()
    try:
        reps = run_kind(kind, bench)
    finally:
        kind.close()
        shutil.rmtree(root, ignore_errors=True)
    results["elapsed_seconds"] = round(time.perf_counter() - t0, 1)
    results["durability"] = {
        "intended": {
            "sqlite": "WAL, synchronous=FULL (raw loop, runwright default, DBOS file set to WAL)",
            "postgres": "server default synchronous_commit, ordinary logged tables",
        }[name],
        "effective": _durability(reps),
    }
    results["workloads"] = {
        w: report.summarize(
            describe(w, sizes),
            sides["raw"],
            sides["runwright"],
            {d.side: sides[d.side] for d in dbos},
        )
        for w, sides in reps.items()
    }
    return results


def _default_pg_url() -> str:
    return os.environ.get("RUNWRIGHT_TEST_POSTGRES_URL") or DEFAULT_PG_URL


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="runwright core benchmark: W1/W2/W3 vs the raw commit limit and DBOS."
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--pg-url",
        default=_default_pg_url(),
        help="admin URL of a PostgreSQL server on 127.0.0.1 "
        "(default: $RUNWRIGHT_TEST_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (median reported)")
    parser.add_argument("--skip-dbos", action="store_true", help="do not run the DBOS peer")
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help="comma-separated subset of w1,w2,w3,w1g,w2g",
    )
    parser.add_argument(
        "--workdir",
        default=None,
        help="where scratch SQLite files go (default: the system temp dir)",
    )
    parser.add_argument("--results-dir", default=str(RESULTS_DIR))
    parser.add_argument("--dbos-spec", default="dbos", help="pip requirement for the DBOS venv")
    parser.add_argument(
        "--dbos-configs",
        default=",".join(DBOS_CONFIGS),
        help="which DBOS configurations to measure: fast (the W2 queue polled every "
        "--dbos-queue-poll s), default (DBOS as it comes: unlimited worker concurrency, "
        "1 s polling); comma-separated, default both",
    )
    parser.add_argument(
        "--dbos-worker-concurrency",
        type=int,
        default=None,
        help="W2 DBOS queue worker_concurrency in the fast configuration "
        "(default: DBOS's, unlimited)",
    )
    parser.add_argument(
        "--dbos-queue-poll",
        type=float,
        default=0.01,
        help="W2 DBOS queue polling_interval_sec in the fast configuration (DBOS default is 1.0)",
    )
    parser.add_argument(
        "--dbos-enqueue",
        choices=["batch", "each"],
        default="batch",
        help="W2 DBOS enqueue: one transaction (batch) or one per workflow",
    )
    parser.add_argument(
        "--no-src-snapshot",
        action="store_true",
        help="import runwright from src/ directly instead of a snapshot taken at start-up",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown or not args.workloads:
        parser.error(f"--workloads takes a subset of {','.join(WORKLOADS)}")
    args.dbos_configs = [c.strip() for c in args.dbos_configs.split(",") if c.strip()]
    if set(args.dbos_configs) - set(DBOS_CONFIGS) or not args.dbos_configs:
        parser.error(f"--dbos-configs takes a subset of {','.join(DBOS_CONFIGS)}")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else TABLE_WIDTH)
    log = Console(stderr=True, width=None if sys.stderr.isatty() else TABLE_WIDTH)
    rw, source = load_runwright(snapshot=not args.no_src_snapshot)
    log.print(f"runwright {source['version']} from {source['imported_from']}")
    dbos: list[dbos_side.DbosOptions] = []
    if not args.skip_dbos:
        python, version = dbos_side.ensure_dbos(args.dbos_spec)
        if "fast" in args.dbos_configs:
            dbos.append(
                dbos_side.DbosOptions(
                    python=python,
                    version=version,
                    side="dbos",
                    worker_concurrency=args.dbos_worker_concurrency,
                    queue_poll=args.dbos_queue_poll,
                    enqueue=args.dbos_enqueue,
                )
            )
        if "default" in args.dbos_configs:
            dbos.append(
                dbos_side.DbosOptions(
                    python=python,
                    version=version,
                    side="dbos_default",
                    worker_concurrency=None,
                    queue_poll=None,
                    enqueue=args.dbos_enqueue,
                )
            )
    bench = Bench(
        args=args,
        sizes=QUICK if args.quick else FULL,
        rw=rw,
        source=source,
        dbos=dbos,
        log=log,
    )
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    failed = False
    for name in kinds:
        log.print(f"[bold]{name}[/bold]: {', '.join(args.workloads)} x {args.repeat}")
        results = bench_kind(name, bench)
        suffix = "-quick" if args.quick else ""
        path = Path(args.results_dir) / f"core-{name}{suffix}.json"
        report.write_json(path, results)
        if "error" in results:
            failed = True
            console.print(f"[red]{name}: {results['error']}[/red]")
        else:
            report.print_results(console, name, results)
        console.print(f"results written to {path}\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
