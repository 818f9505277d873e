"""A worker started while the database is down waits for it, and an outage while it runs
makes its tickers say so once per kind of failure, not with a traceback every tick."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import proc_jobs
import pytest
from sqlalchemy.engine import make_url

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.states import RunState
from tests.workers import start_worker, worker_env

pytestmark = pytest.mark.slow


class Gate:
    """A port on 127.0.0.1 that refuses connections while shut and, while open, forwards
    each one to ``target`` (shutting it also cuts the connections it forwards)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def open(self) -> None:
        """Accept and forward connections from now on."""
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def shut(self) -> None:
        """Refuse new connections and cut the forwarded ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            live, self._open = self._open, []
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@pytest.fixture
def gate(pg_url: str) -> Iterator[Gate]:
    """A shut gate in front of the test's PostgreSQL server."""
    url = make_url(pg_url)
    g = Gate((url.host or "127.0.0.1", url.port or 5432))
    yield g
    g.shut()


def _until(check: Callable[[], object], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_worker_started_while_postgres_is_down_waits_for_it(
    tmp_path: Path, pg_url: str, gate: Gate
) -> None:
    """`runwright worker` on a PostgreSQL URL whose port refuses connections keeps trying,
    one log line per attempt, instead of exiting after a second and a half; once the port
    answers it runs the waiting work. A later outage while it runs is logged one line per
    kind of failure by its tickers (no traceback), and it carries on afterwards."""
    client = Client.open(
        load_settings(env={}, overrides={"home": tmp_path / ".runwright", "database_url": pg_url})
    )
    log = tmp_path / "worker.log"
    through_gate = make_url(pg_url).set(host="127.0.0.1", port=gate.port)
    worker = start_worker(
        client.settings.home, through_gate.render_as_string(hide_password=False), log=log
    )
    try:
        _until(lambda: log.read_text().count("retrying in") >= 3, "three attempts")
        assert worker.poll() is None, log.read_text()
        attempts = [line for line in log.read_text().splitlines() if "retrying in" in line]
        assert "attempt 1" in attempts[0]
        assert "attempt 3" in attempts[2]
        first = client.start(proc_jobs.appender, str(tmp_path / "one"), 2)
        gate.open()
        _until(lambda: client.get(first.run_id).state is RunState.SUCCEEDED, "the first run")
        before = log.read_text()
        gate.shut()
        time.sleep(12)  # several ticks and retries with the database gone
        during = log.read_text()[len(before) :]
        gate.open()
        second = client.start(proc_jobs.appender, str(tmp_path / "two"), 2)
        _until(lambda: client.get(second.run_id).state is RunState.SUCCEEDED, "the second run")
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        client.close()
    assert "Traceback" not in log.read_text()
    assert "store unavailable" in during  # the worker saw the outage (how often depends on load)
    failures = re.findall(r"ticker (\S+) failed \((\w+)\)", during)
    assert failures  # the tickers did fail during the outage…
    assert len(failures) == len(set(failures)), failures  # …once per ticker and kind


def test_a_sqlite_path_that_cannot_be_a_database_is_one_line_naming_the_url(
    tmp_path: Path,
) -> None:
    """A SQLite URL whose folder is a file is not an outage to wait out: the worker exits 1
    at once with one line naming database_url and the path, not an internal error."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    url = f"sqlite:///{blocker / 'state.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "runwright", "worker", "--until-idle"],
        env=worker_env(tmp_path / ".runwright", url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "internal error" not in lines[0]
    assert "database_url" in lines[0]
    assert str(blocker) in lines[0]
