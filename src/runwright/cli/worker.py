"""`runwright worker`: claim and execute runs until stopped."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import threading
from types import FrameType

import click

from runwright.api.client import Client
from runwright.cli.context import AppContext, pass_app
from runwright.cli.output import console, err_console
from runwright.cli.worker_output import WorkerOutput, choose_mode
from runwright.engine.backoff import wait_for_store
from runwright.engine.worker import (
    DEFAULT_RUNS_AT_ONCE,
    MAX_RUNS_AT_ONCE,
    Worker,
    default_runs_at_once,
)
from runwright.errors import ConfigError


def _import_modules(modules: tuple[str, ...]) -> None:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ConfigError(
                f"cannot import {name!r}: {exc}",
                hint="check the module name and PYTHONPATH",
                field="--import",
            ) from exc


@click.command("worker")
@click.option(
    "--import",
    "imports",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE so its jobs are known (repeatable).",
)
@click.option(
    "--processes",
    "--concurrency",
    "processes",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes to run (--concurrency is the older name).",
)
@click.option(
    "--runs-at-once",
    type=click.IntRange(1, MAX_RUNS_AT_ONCE),
    envvar="RUNWRIGHT_RUNS_AT_ONCE",
    help="Runs each worker process executes at the same time (env RUNWRIGHT_RUNS_AT_ONCE; "
    f"default {DEFAULT_RUNS_AT_ONCE['sqlite']} on SQLite, "
    f"{DEFAULT_RUNS_AT_ONCE['postgresql']} on PostgreSQL).",
)
@click.option(
    "--lease-seconds",
    type=click.FloatRange(min=0.5),
    envvar="RUNWRIGHT_LEASE_SECONDS",
    help="Lease length (env RUNWRIGHT_LEASE_SECONDS).",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(min=0.01),
    envvar="RUNWRIGHT_POLL_SECONDS",
    help="Idle poll interval (env RUNWRIGHT_POLL_SECONDS).",
)
@click.option("--until-idle", is_flag=True, help="Exit once no run is ready.")
@click.option("--max-runs", type=click.IntRange(min=1), help="Exit after claiming this many runs.")
@click.option("--verbose", "-v", is_flag=True, help="Print a line per run.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--summary-lines", is_flag=True, hidden=True)
@pass_app
def worker(
    app: AppContext,
    imports: tuple[str, ...],
    processes: int,
    runs_at_once: int | None,
    lease_seconds: float | None,
    poll_seconds: float | None,
    until_idle: bool,
    max_runs: int | None,
    verbose: bool,
    quiet: bool,
    summary_lines: bool,
) -> None:
    """Claim ready runs (with a lease and heartbeats) and execute them, several at once where
    that is faster. Prints a live summary (a line per run with --verbose). Ctrl-C stops
    cleanly."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _import_modules(imports)
    if processes > 1:
        argv = [f"--import={m}" for m in imports]
        argv += [f"--runs-at-once={runs_at_once}"] if runs_at_once else []
        argv += [f"--lease-seconds={lease_seconds}"] if lease_seconds else []
        argv += [f"--poll-seconds={poll_seconds}"] if poll_seconds else []
        argv += ["--until-idle"] if until_idle else []
        argv += [f"--max-runs={max_runs}"] if max_runs else []
        argv += ["--quiet"] if quiet else ["--verbose"] if verbose else ["--summary-lines"]
        _supervise(app, processes, argv)
        return
    client = _connect(app)
    if client is None:
        err_console.print("worker stopped before the database answered")
        return
    settings = app.settings
    db = client.store.db
    output = WorkerOutput(
        choose_mode(verbose=verbose, quiet=quiet, lines=summary_lines, console=console), console
    )
    w: Worker = client.worker(
        lease_seconds=lease_seconds or settings.lease_seconds,
        poll_seconds=poll_seconds or settings.poll_seconds,
        on_run=output.on_run,
        runs_at_once=runs_at_once or default_runs_at_once(db.dialect),
    )
    stops = {"n": 0}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stops["n"] += 1
        if stops["n"] > 1:
            err_console.print("stopping now")
            os._exit(130)
        err_console.print("stopping after the current steps (Ctrl-C again to stop at once)")
        w.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if not quiet:
        at_once = "1 run" if w.runs_at_once == 1 else f"{w.runs_at_once} runs"
        err_console.print(
            f"worker {w.worker_id} on {db.display_url} "
            f"({at_once} at once, lease {w.lease_seconds:g}s, poll {w.poll_seconds:g}s)"
        )
    output.start(w)
    try:
        stats = w.run(until_idle=until_idle, max_runs=max_runs)
    finally:
        output.stop()
    if not quiet:
        done = ", ".join(f"{n} {s}" for s, n in sorted(stats.finished.items())) or "none finished"
        err_console.print(f"worker stopped: {stats.claimed} claimed, {done}, {stats.parked} parked")


def _connect(app: AppContext) -> Client | None:
    """The client, once the database answers (a worker started during an outage waits for
    it, one log line per attempt); None if stopped (Ctrl-C, SIGTERM) while waiting."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return wait_for_store(app.client, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _supervise(app: AppContext, n: int, argv: list[str]) -> None:
    """Run ``n`` single worker processes and pass signals on to them."""
    env = dict(
        os.environ,
        RUNWRIGHT_HOME=str(app.settings.home),
        RUNWRIGHT_DATABASE_URL=app.settings.database_url,
    )
    cmd = [sys.executable, "-m", "runwright", "worker", *argv]
    children = [subprocess.Popen(cmd, env=env) for _ in range(n)]

    def forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    codes = [child.wait() for child in children]
    if any(codes):
        raise SystemExit(max(codes))


def register(cli: click.Group) -> None:
    """Add the worker command to the CLI."""
    cli.add_command(worker)
