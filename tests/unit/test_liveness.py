"""Telling a live worker from a gone one: its process on this host, its heartbeat elsewhere."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from runwright.engine.liveness import ProcessState, holder_is_gone, process_state, silent
from runwright.store.core.records import HeldLease, WorkerInfo

NOW = datetime.now(UTC)


def _worker(pid: int, *, host: str | None = None, started: datetime = NOW) -> WorkerInfo:
    return WorkerInfo("w", host or socket.gethostname(), pid, started, started, "0")


def test_a_process_on_this_host_is_alive_while_it_runs_and_gone_once_reaped() -> None:
    """This process is alive; a child that exited (and was reaped) is gone; a worker on
    another host cannot be judged by its pid."""
    assert process_state(_worker(os.getpid(), started=NOW)) is ProcessState.ALIVE
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_state(_worker(child.pid)) is ProcessState.GONE
    assert process_state(_worker(os.getpid(), host="elsewhere.invalid")) is ProcessState.UNKNOWN


def test_a_zombie_counts_as_gone() -> None:
    """A killed child its parent has not reaped yet (a zombie) is gone."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        child.kill()
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while process_state(_worker(child.pid)) is not ProcessState.GONE:
            assert datetime.now(UTC) < deadline
    finally:
        child.wait()


def test_a_pid_reused_by_a_newer_process_counts_as_gone() -> None:
    """A worker that registered an hour ago cannot be this process, started seconds ago."""
    long_ago = NOW - timedelta(hours=1)
    assert process_state(_worker(os.getpid(), started=long_ago)) is ProcessState.GONE


def test_another_hosts_worker_is_gone_after_two_missed_heartbeats() -> None:
    """With a 30 s lease renewed with each heartbeat, 15 s of silence is normal and 25 s
    (two missed heartbeats) means gone; a lease whose worker never registered is not
    judged gone."""
    hb = NOW - timedelta(seconds=60)
    elsewhere = WorkerInfo("w", "elsewhere.invalid", 1, hb, hb, "0")
    expires = hb + timedelta(seconds=30)
    assert not silent(elsewhere, expires, hb + timedelta(seconds=15))
    assert silent(elsewhere, expires, hb + timedelta(seconds=25))
    lease = HeldLease("r", "j", "w", expires, elsewhere)
    assert holder_is_gone(lease, hb + timedelta(seconds=25))
    assert not holder_is_gone(HeldLease("r", "j", "w", expires, None), NOW)
