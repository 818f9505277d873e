"""Wake-up hints: PostgreSQL LISTEN/NOTIFY, or a local signal on one SQLite file, wakes idle
workers early; polling stays the truth."""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from runwright.store.core import SystemDatabase
from runwright.store.wake_signal import WakeListener

log = logging.getLogger(__name__)

CHANNEL = "runwright_ready"


class Wakeup(Protocol):
    """Something that sets the worker's wake event when new work may be ready."""

    def close(self) -> None:
        """Stop listening."""


class PostgresWakeup:
    """A thread that LISTENs on the ready channel and wakes the worker on each notification."""

    def __init__(self, dsn: str, event: threading.Event):
        self._dsn = dsn
        self._event = event
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="runwright-listen", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        import psycopg

        while not self._closed.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._closed.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self._event.set()
            except Exception as exc:  # the hint is optional; polling still finds the work
                log.debug("listen connection lost: %s", exc)
                self._closed.wait(1.0)

    def close(self) -> None:
        """Stop the listener thread."""
        self._closed.set()


def wakeup_for(store: SystemDatabase, event: threading.Event) -> Wakeup | None:
    """A PostgreSQL listener, or a local socket for a SQLite file; None elsewhere (polling only)."""
    db = store.db
    if db.is_sqlite:
        folder = db.wake_folder
        if folder is None:
            return None
        try:
            return WakeListener(folder, event.set)
        except OSError as exc:  # no wake-ups here (a long temp path, say): polling finds work
            log.debug("no local wake-up signal: %s", exc)
            return None
    url = db.url.set(drivername="postgresql")
    return PostgresWakeup(url.render_as_string(hide_password=False), event)
