"""Helpers for testing your own jobs and workflows: a temporary store, a fake clock, and
running everything in this process until nothing is left to do.

```python
from runwright.testing import run_until_idle, temporary_client

def test_the_invoice_is_sent_once():
    with temporary_client() as client:          # a fresh SQLite store in a temp dir
        run = client.start(invoice, "A-1001")
        run_until_idle(client)                  # durable sleeps and backoffs take no time
        assert client.get(run.run_id).result == "INV-1"
```

``temporary_client`` ignores the ``RUNWRIGHT_*`` environment, so a test can never reach the
store your shell points at. Its clock is a :class:`FakeClock`: time moves only when the test
(or :func:`run_until_idle`) moves it.
"""

from __future__ import annotations

import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.states import RunState
from runwright.engine.clock import Clock, FakeClock, SystemClock
from runwright.engine.worker import Worker
from runwright.errors import RunwrightError
from runwright.store.schema import runs

__all__ = [
    "FakeClock",
    "SystemClock",
    "next_due",
    "restart_worker",
    "run_until_idle",
    "temporary_client",
]

#: How many times run_until_idle may jump the clock before it gives up.
MAX_CLOCK_JUMPS = 1000

_workers: weakref.WeakKeyDictionary[Client, Worker] = weakref.WeakKeyDictionary()


@contextmanager
def temporary_client(
    *,
    database_url: str | None = None,
    clock: Clock | None = None,
    directory: Path | None = None,
    project_id: str = "test",
    **settings: Any,
) -> Iterator[Client]:
    """A client on a fresh store that disappears afterwards.

    By default the store is SQLite in a new temporary directory (removed on exit), and the
    clock is a :class:`FakeClock` (``client.clock``). ``database_url`` points it at another
    database instead, e.g. a throwaway PostgreSQL database (its tables are created there and
    left in place); ``directory`` keeps ``.runwright/`` (evidence, state) in a folder you own;
    other keyword arguments are settings (``lease_seconds=…``, ``sqlite_synchronous=…``).
    The ``RUNWRIGHT_*`` environment and any ``config.toml`` above the working directory are
    ignored.
    """
    with tempfile.TemporaryDirectory(prefix="runwright-test-") as scratch:
        root = Path(directory) if directory is not None else Path(scratch)
        overrides: dict[str, Any] = {
            "home": root / ".runwright",
            "project_id": project_id,
            "poll_seconds": 0.01,
            **settings,
        }
        if database_url is not None:
            overrides["database_url"] = database_url
        resolved = load_settings(cwd=root, env={}, overrides=overrides)
        client = Client.open(resolved, clock=clock if clock is not None else FakeClock())
        try:
            yield client
        finally:
            _workers.pop(client, None)
            client.close()


def next_due(client: Client) -> datetime | None:
    """The earliest future time at which a pending or waiting run becomes ready (a durable
    sleep's end, a retry's or a reconcile's backoff), or None if no run waits on the clock."""
    now = client.clock.now()
    query = select(func.min(runs.c.available_at)).where(
        runs.c.state.in_([RunState.PENDING.value, RunState.WAITING.value]),
        runs.c.available_at > now,
    )
    found: datetime | None = client.store.db.run(
        lambda conn: conn.execute(query).scalar(), write=False
    )
    return found


def _worker(client: Client) -> Worker:
    worker = _workers.get(client)
    if worker is None:
        worker = client.worker(register=False)
        _workers[client] = worker
    return worker


def restart_worker(client: Client) -> None:
    """Forget this client's in-process worker: the next :func:`run_until_idle` starts a new
    one, as if the worker process had been restarted (workflow start-up recovery runs again)."""
    _workers.pop(client, None)


def run_until_idle(
    client: Client,
    *,
    advance_clock: bool = True,
    until: datetime | None = None,
    max_runs: int | None = None,
) -> int:
    """Execute ready work in this process until nothing is left; return how many runs ran.

    With a :class:`FakeClock` and ``advance_clock`` (the default), whenever nothing is ready
    the clock jumps to the next time a run becomes ready (durable sleeps, retry and reconcile
    backoffs) and work goes on, so a job that sleeps for a day finishes at once. It stops
    when no run waits on the clock, or before a jump past ``until``. Workflow producer
    schedules are not jumped to (they recur forever): move the clock yourself with
    ``client.clock.advance(seconds)`` and call this again. ``max_runs`` bounds the runs
    executed. The same in-process worker is reused across calls for one client (see
    :func:`restart_worker`).
    """
    worker = _worker(client)
    clock = client.clock
    claimed = 0
    jumps = 0
    while True:
        left = None if max_runs is None else max_runs - claimed
        if left is not None and left <= 0:
            return claimed
        before = worker.stats.claimed  # a worker's stats accumulate across its runs
        claimed += worker.run(until_idle=True, max_runs=left).claimed - before
        if not advance_clock or not isinstance(clock, FakeClock):
            return claimed
        due = next_due(client)
        if due is None or (until is not None and due > until):
            return claimed
        jumps += 1
        if jumps > MAX_CLOCK_JUMPS:
            raise RunwrightError(
                f"still not idle after {MAX_CLOCK_JUMPS} jumps of the clock "
                f"(now {clock.now().isoformat()})",
                hint="a job that sleeps or retries forever never becomes idle: pass until= "
                "or max_runs=, or look at its runs with client.list_runs()",
            )
        clock.set(due)
