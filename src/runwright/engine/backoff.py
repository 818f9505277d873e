"""Waiting for the store: a worker started while the database is down tries again with
backoff until it answers, saying so once per attempt."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from runwright.errors import StoreUnavailable

T = TypeVar("T")

log = logging.getLogger(__name__)

#: The longest wait between two attempts (seconds); the first waits 1 s, then 2 s, 4 s…
MAX_BACKOFF_SECONDS = 10.0


def backoff(attempt: int) -> float:
    """How long to wait after failed attempt number ``attempt`` (1, 2, 3…)."""
    return min(2.0 ** (attempt - 1), MAX_BACKOFF_SECONDS)


def wait_for_store(connect: Callable[[], T], stop: threading.Event) -> T | None:
    """``connect()`` once the store answers: each attempt that finds it unavailable is logged
    as one line and retried after ``backoff``; None if ``stop`` is set while waiting. Errors
    that waiting cannot fix (a bad URL, a missing database, a schema mismatch) propagate."""
    attempt = 0
    while not stop.is_set():
        attempt += 1
        try:
            return connect()
        except StoreUnavailable as exc:
            delay = backoff(attempt)
            log.warning("%s; attempt %d, retrying in %gs", exc.message, attempt, delay)
            if stop.wait(delay):
                break
    return None
