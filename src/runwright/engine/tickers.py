"""Tickers: periodic work a worker does between claims (e.g. the workflow scheduler).

A part that needs the worker's loop provides a module in ``TICKER_MODULES`` with
``make_ticker(worker) -> Ticker | None``. A ticker returns True if it did something (so the
worker looks for work again instead of sleeping). Ticker failures are logged, never fatal to the
worker: each kind of failure once (one line for runwright's own errors, such as the store being
unavailable; a traceback the first time for anything else), then nothing more about that ticker
and kind until the ticker works again, which is logged too. An outage does not fill the log
with a traceback every tick.

When tickers run (``Tickers``): when the worker starts, every time it finds nothing to claim
(before it sleeps or, with ``until_idle``, before it returns, so an idle worker and
``run_until_idle`` see everything the tickers make ready), and while the worker is busy at
most once every ``interval`` seconds of real time. Running them before every claim cost a few
queries per run (a quarter of a one-step run's time) for work that is rarely there: chained
work never waits for them (a workflow run's commit starts the workflow's next run in the same
transaction), and what they look for while the worker is busy (a producer falling due) may wait
that long.

Work that follows a run's end is not a ticker's: a part registers a run-end hook
(``runwright.store.core.run_end``) that runs in the transaction ending the run, and queues a
durable run if the work needs the worker (an op run's finalization).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from runwright.errors import RunwrightError

if TYPE_CHECKING:
    from runwright.engine.worker import Worker

log = logging.getLogger(__name__)

Ticker = Callable[[], bool]

TICKER_MODULES = ("runwright.workflows.ticker",)

#: How often a busy worker runs its tickers (seconds of real time).
TICK_SECONDS = 1.0


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def load_tickers(worker: Worker) -> list[Ticker]:
    """The tickers of every part present, bound to ``worker``."""
    found: list[Ticker] = []
    for name in TICKER_MODULES:
        if not _exists(name):
            continue
        make = getattr(importlib.import_module(name), "make_ticker", None)
        ticker = make(worker) if callable(make) else None
        if ticker is not None:
            found.append(ticker)
    return found


def ticker_name(tick: Ticker) -> str:
    """A ticker by the module that made it (e.g. ``runwright.workflows.ticker``)."""
    return str(getattr(tick, "__module__", None) or type(tick).__module__)


def _failed(name: str, exc: Exception, failing: dict[str, set[str]]) -> None:
    kind = type(exc).__name__
    seen = failing.setdefault(name, set())
    if kind in seen:
        return
    seen.add(kind)
    if isinstance(exc, RunwrightError):
        log.warning(
            "ticker %s failed (%s): %s; the worker carries on (not logged again until it works)",
            name,
            kind,
            str(exc).splitlines()[0] if str(exc) else kind,
        )
    else:
        log.exception(
            "ticker %s failed (%s); the worker carries on (not logged again until it works)",
            name,
            kind,
        )


def run_tickers(tickers: list[Ticker], failing: dict[str, set[str]] | None = None) -> bool:
    """Call every ticker; True if any did work. ``failing`` (ticker name → kinds of failure
    logged) keeps a repeated failure from being logged again."""
    failing = {} if failing is None else failing
    busy = False
    for tick in tickers:
        name = ticker_name(tick)
        try:
            busy = bool(tick()) or busy
        except Exception as exc:
            _failed(name, exc, failing)
        else:
            if failing.pop(name, None):
                log.warning("ticker %s works again", name)
    return busy


class Tickers:
    """A worker's tickers and when they last ran (on the monotonic clock: pacing, not time)."""

    def __init__(self, tickers: list[Ticker], interval: float = TICK_SECONDS):
        self.tickers = tickers
        self.interval = interval
        self._next = 0.0  # due at once: the first loop of a worker always ticks
        self._failing: dict[str, set[str]] = {}

    def due(self) -> bool:
        """True once ``interval`` has passed since the last run (and before the first)."""
        return bool(self.tickers) and time.monotonic() >= self._next

    def run(self) -> bool:
        """Run every ticker now; True if any did work."""
        if not self.tickers:
            return False
        self._next = time.monotonic() + self.interval
        return run_tickers(self.tickers, self._failing)
