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
from runwright.domain.states import RunState
from runwright.engine.backoff import wait_for_store
from runwright.engine.worker import Worker
from runwright.errors import ConfigError
from runwright.store.base import Claim


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


def _reporter(quiet: bool):  # type: ignore[no-untyped-def]
    def on_run(claim: Claim, state: RunState | None, seconds: float) -> None:
        if quiet:
            return
        run = claim.run
        what = state.value if state else "handed back"
        style = {"succeeded": "green", "failed": "red", "waiting": "yellow"}.get(what, "dim")
        took = f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"
        console.print(f"[{style}]{what:<10}[/{style}] {run.run_id} {run.job_name} ({took})")

    return on_run


@click.command("worker")
@click.option(
    "--import",
    "imports",
    multiple=True,
    metavar="MODULE",
    help="Import MODULE so its jobs are known (repeatable).",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes to run.",
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
@click.option("--quiet", "-q", is_flag=True, help="Do not print a line per run.")
@pass_app
def worker(
    app: AppContext,
    imports: tuple[str, ...],
    concurrency: int,
    lease_seconds: float | None,
    poll_seconds: float | None,
    until_idle: bool,
    max_runs: int | None,
    quiet: bool,
) -> None:
    """Claim ready runs (with a lease and heartbeats) and execute them. Ctrl-C stops cleanly."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    _import_modules(imports)
    if concurrency > 1:
        argv = [f"--import={m}" for m in imports]
        argv += [f"--lease-seconds={lease_seconds}"] if lease_seconds else []
        argv += [f"--poll-seconds={poll_seconds}"] if poll_seconds else []
        argv += ["--until-idle"] if until_idle else []
        argv += [f"--max-runs={max_runs}"] if max_runs else []
        argv += ["--quiet"] if quiet else []
        _supervise(app, concurrency, argv)
        return
    client = _connect(app)
    if client is None:
        err_console.print("worker stopped before the database answered")
        return
    settings = app.settings
    w: Worker = client.worker(
        lease_seconds=lease_seconds or settings.lease_seconds,
        poll_seconds=poll_seconds or settings.poll_seconds,
        on_run=_reporter(quiet),
    )
    stops = {"n": 0}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stops["n"] += 1
        if stops["n"] > 1:
            err_console.print("stopping now")
            os._exit(130)
        err_console.print("stopping after the current step (Ctrl-C again to stop at once)")
        w.stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if not quiet:
        err_console.print(
            f"worker {w.worker_id} on {client.store.db.display_url} "
            f"(lease {w.lease_seconds:g}s, poll {w.poll_seconds:g}s)"
        )
    stats = w.run(until_idle=until_idle, max_runs=max_runs)
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
