"""Is a worker still there? Its process, when it runs on this host; its heartbeat otherwise.

A SIGKILLed worker leaves its row heartbeating-fresh and its lease unexpired for up to a lease
length. On the worker's own host the process itself answers at once: gone, a zombie, or a
new process that reused the pid (it started after the worker registered). Elsewhere only
silence can tell: a worker renews its lease and its heartbeat together every third of the
lease, so two missed heartbeats (two thirds of the lease gone by without one) mean it is gone.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from runwright.store.core import HeldLease, WorkerInfo

#: How much later than the worker's registration its process may have started (clock skew
#: between the kernel's boot time and the database's timestamps).
_START_SLACK_SECONDS = 5.0


class ProcessState(StrEnum):
    """What this host can say about a worker's process."""

    ALIVE = "alive"
    GONE = "gone"
    UNKNOWN = "unknown"  # another host: only its heartbeat can tell


def _proc_started(pid: int) -> tuple[str, float] | None:
    """(state letter, start time as a UNIX timestamp) from /proc, or None without /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    ticks = os.sysconf("SC_CLK_TCK")
    return fields[0], boot + int(fields[19]) / ticks


def process_state(worker: WorkerInfo) -> ProcessState:
    """Whether ``worker``'s process still runs, if it ran on this host."""
    if worker.hostname != socket.gethostname():
        return ProcessState.UNKNOWN
    try:
        os.kill(worker.pid, 0)
    except ProcessLookupError:
        return ProcessState.GONE
    except PermissionError:
        pass  # someone else's process: it exists
    found = _proc_started(worker.pid)
    if found is not None:
        state, started = found
        if state in {"Z", "X"}:
            return ProcessState.GONE
        if started > worker.started_at.timestamp() + _START_SLACK_SECONDS:
            return ProcessState.GONE  # the pid was reused by a newer process
    return ProcessState.ALIVE


def silent(worker: WorkerInfo, lease_expires_at: datetime, now: datetime) -> bool:
    """True when the worker missed two heartbeats of the lease it holds."""
    lease = (lease_expires_at - worker.heartbeat_at).total_seconds()
    return (now - worker.heartbeat_at).total_seconds() > lease * 2 / 3


def holder_is_gone(held: HeldLease, now: datetime) -> bool:
    """True when the worker holding ``held`` is gone (stopped, its process dead, or silent);
    False when it is alive or cannot be told (a worker that never registered)."""
    worker = held.worker
    if worker is None:
        return False
    if worker.stopped_at is not None:
        return True
    state = process_state(worker)
    if state is ProcessState.UNKNOWN:
        return silent(worker, held.expires_at, now)
    return state is ProcessState.GONE
