"""Tickers: periodic work a worker does between claims (e.g. the workflow scheduler).

A part that needs the worker's loop provides a module in ``TICKER_MODULES`` with
``make_ticker(worker) -> Ticker | None``. A ticker is called once per loop iteration, before
the worker looks for a run to claim, and returns True if it did something (so the worker
does not sleep). Ticker failures are logged, never fatal to the worker.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runwright.engine.worker import Worker

log = logging.getLogger(__name__)

Ticker = Callable[[], bool]

TICKER_MODULES = ("runwright.workflows.ticker", "runwright.execmodel.ticker")


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


def run_tickers(tickers: list[Ticker]) -> bool:
    """Call every ticker; True if any did work."""
    busy = False
    for tick in tickers:
        try:
            busy = bool(tick()) or busy
        except Exception:
            log.exception("ticker %r failed; the worker carries on", tick)
    return busy
