"""A database that is briefly unavailable makes workers wait and retry, not die."""

from __future__ import annotations

import signal
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import engine_jobs
import proc_jobs
import psycopg
import pytest
from sqlalchemy.engine import make_url

from runwright.api.client import Client
from runwright.config import load_settings
from runwright.domain.states import RunState
from tests.workers import start_worker

pytestmark = pytest.mark.slow


def _wait_for_lines(path: Path, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(engine_jobs.lines(str(path))) < n:
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.02)


def _finish(client: Client, run_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while client.get(run_id).state is not RunState.SUCCEEDED:
        assert time.monotonic() < deadline, f"run did not finish: {client.get(run_id)}"
        time.sleep(0.1)


def _client(tmp_path: Path, url: str) -> Client:
    return Client.open(
        load_settings(env={}, overrides={"home": tmp_path / ".runwright", "database_url": url})
    )


@pytest.fixture
def pg_client(tmp_path: Path, pg_url: str) -> Iterator[Client]:
    """A client on a fresh PostgreSQL schema."""
    with _client(tmp_path, pg_url) as client:
        yield client


@pytest.fixture
def sqlite_client(tmp_path: Path) -> Iterator[Client]:
    """A client on a fresh SQLite file."""
    with _client(tmp_path, f"sqlite:///{tmp_path / 'state.db'}") as client:
        yield client


def test_a_worker_survives_its_postgres_connections_being_cut(
    pg_client: Client, pg_url: str, tmp_path: Path
) -> None:
    """Every runwright connection is terminated mid-run, twice; the worker process keeps
    going, the run succeeds, and no step line is written twice."""
    real_client = pg_client
    log = tmp_path / "lines"
    run = real_client.start(proc_jobs.appender, str(log), 30, 0.05)
    name = f"runwright-outage-{uuid.uuid4().hex[:8]}"  # only this test's worker is cut off
    worker_url = make_url(pg_url).update_query_dict({"application_name": name})
    worker = start_worker(
        real_client.settings.home,
        worker_url.render_as_string(hide_password=False),
        "--quiet",
        log=tmp_path / "w.log",
    )
    libpq = (
        make_url(pg_url)
        .set(drivername="postgresql", query={})
        .render_as_string(hide_password=False)
    )
    try:
        for cut in (5, 15):
            _wait_for_lines(log, cut)
            with psycopg.connect(libpq, autocommit=True) as admin:
                killed = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s",
                    (name,),
                ).fetchone()
            assert killed is not None
            assert killed[0] >= 1
        _finish(real_client, run.run_id)
        assert worker.poll() is None, "the worker died instead of retrying"
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    lines = engine_jobs.lines(str(log))
    assert len(lines) == len(set(lines)) == 30


def test_a_worker_waits_out_a_locked_sqlite_file(sqlite_client: Client, tmp_path: Path) -> None:
    """Another process holds SQLite's write lock for 3 s; the worker waits, then finishes."""
    real_client = sqlite_client
    log = tmp_path / "lines"
    run = real_client.start(proc_jobs.appender, str(log), 20, 0.02)
    db_file = make_url(real_client.settings.database_url).database
    assert db_file
    worker = start_worker(
        real_client.settings.home,
        real_client.settings.database_url,
        "--quiet",
        log=tmp_path / "w.log",
    )
    try:
        _wait_for_lines(log, 5)
        blocker = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN EXCLUSIVE")
        held = threading.Event()
        threading.Timer(3.0, lambda: (blocker.execute("COMMIT"), held.set())).start()
        time.sleep(0.5)
        during = len(engine_jobs.lines(str(log)))
        held.wait(10)
        blocker.close()
        _finish(real_client, run.run_id)
        assert during < 20
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
    assert sorted(engine_jobs.lines(str(log))) == sorted(f"{run.run_id}:{i}" for i in range(20))
