"""A real HTTP JSON server on 127.0.0.1 for tool and crash tests.

``POST /items`` applies each ``Idempotency-Key`` once (a repeat returns the first result) and
counts every request; ``GET /items/by-key/KEY`` looks a write up (200 or 404);
``/status/CODE`` answers CODE; ``/slow`` sleeps. ``hold`` makes the next POST wait (after or
without applying) until the test releases it, so a worker can be killed mid-call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Ledger:
    """What the server saw and applied."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.by_key: dict[str, dict[str, Any]] = {}
        self.applied: list[dict[str, Any]] = []
        self.hold: str | None = None  # "apply" (apply, then hang) or "drop" (hang, never apply)
        self.holding = threading.Event()
        self.release = threading.Event()
        self.seen_keys: list[str] = []

    def items(self) -> list[str]:
        """Applied item names, in order."""
        with self.lock:
            return [str(a.get("item")) for a in self.applied]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, code: int, body: Any = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with suppress(OSError):
            self.wfile.write(data)

    def do_GET(self) -> None:
        ledger = self.server.ledger
        if self.path.startswith("/items/by-key/"):
            key = self.path.rsplit("/", 1)[1]
            with ledger.lock:
                found = ledger.by_key.get(key)
            self._send(200, found) if found else self._send(404, {"error": "no such key"})
        elif self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), {"status": "forced"})
        elif self.path == "/slow":
            time.sleep(1)
            self._send(200, {"slow": True})
        elif self.path == "/items":
            self._send(200, ledger.items())
        else:
            self._send(404)

    def do_POST(self) -> None:
        ledger = self.server.ledger
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        key = self.headers.get("Idempotency-Key", "")
        if self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), {"status": "forced"})
            return
        if self.path == "/slow":
            time.sleep(1)
        with ledger.lock:
            ledger.requests += 1
            ledger.seen_keys.append(key)
            hold, ledger.hold = ledger.hold, None
        if hold == "drop":
            ledger.holding.set()
            ledger.release.wait(30)
            self._send(500, {"error": "dropped"})
            return
        with ledger.lock:
            found = ledger.by_key.get(key) if key else None
            if found is None:
                found = {
                    "id": f"it-{len(ledger.applied) + 1}",
                    "item": (body or {}).get("item"),
                    "key": key,
                }
                ledger.applied.append(found)
                if key:
                    ledger.by_key[key] = found
        if hold == "apply":
            ledger.holding.set()
            ledger.release.wait(30)
        self._send(201, found)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ledger: Ledger


@contextmanager
def serve() -> Iterator[tuple[str, Ledger]]:
    """Run the server on a free loopback port; yield its URL and ledger."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.ledger = Ledger()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.ledger
    finally:
        server.ledger.release.set()
        server.shutdown()
        server.server_close()
