"""The worker: claim ready runs with a lease, keep the lease alive, execute, repeat."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runwright.config import Settings
from runwright.domain.ids import new_id
from runwright.domain.states import RunState
from runwright.engine import interrupts
from runwright.engine.clock import Clock, SystemClock
from runwright.engine.discovery import JobDiscovery
from runwright.engine.executor import Executor
from runwright.engine.interrupts import Interrupter
from runwright.engine.liveness import holder_is_gone
from runwright.engine.registry import job_names
from runwright.engine.tickers import TICK_SECONDS, Ticker, Tickers, load_tickers
from runwright.engine.wakeup import Wakeup, wakeup_for
from runwright.errors import StorageError
from runwright.store.base import Claim, ClaimRequest, Lease, Store, WorkerInfo
from runwright.store.blobs import BlobStore
from runwright.version import __version__

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """What a worker did."""

    claimed: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    parked: int = 0
    abandoned: int = 0


class Worker:
    """Claims and executes runs until stopped (or, with ``until_idle``, until none is ready)."""

    def __init__(
        self,
        store: Store,
        *,
        evidence_dir: Path,
        clock: Clock | None = None,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.5,
        project_root: Path | None = None,
        worker_id: str | None = None,
        wakeup: Wakeup | None = None,
        register: bool = True,
        on_run: Callable[[Claim, RunState | None, float], None] | None = None,
        tickers: list[Ticker] | None = None,
        settings: Settings | None = None,
        tick_seconds: float = TICK_SECONDS,
    ):
        self.store = store
        self.clock = clock or SystemClock()
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = max(lease_seconds / 3, 0.05)
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self.interrupter = Interrupter()
        self.executor = Executor(
            store=store,
            clock=self.clock,
            blobs=BlobStore(evidence_dir),
            worker_id=self.worker_id,
            interrupter=self.interrupter,
            project_root=project_root,
        )
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lease: Lease | None = None
        self._lease_lock = threading.Lock()
        self._wakeup = wakeup
        self._register = register
        self._on_run = on_run
        self._next: Claim | None = None
        self._max_runs: int | None = None
        self._tickers = tickers
        self.tick_seconds = tick_seconds
        self.settings = settings
        self._discovery = JobDiscovery(store, self.clock.now)
        self._recorded_jobs: tuple[str, ...] | None = None

    # ---- control ----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the current step (the run is handed back at its next step boundary)."""
        self._stop.set()
        self._wake.set()
        self.interrupter.request(interrupts.STOP)

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    # ---- main loop --------------------------------------------------------------------
    def _at_limit(self) -> bool:
        return self._max_runs is not None and self.stats.claimed >= self._max_runs

    def _release_prefetched(self) -> None:
        claim, self._next = self._next, None
        if claim is not None:
            try:
                self.store.release_run(claim.lease, self.clock.now())
            except Exception:  # the lease simply expires if this fails
                log.warning("could not hand back run %s", claim.run.run_id)

    def run(self, *, until_idle: bool = False, max_runs: int | None = None) -> WorkerStats:
        """Work until stopped; ``until_idle`` returns once nothing is ready to claim.

        A worker can run again after it returned; its stats accumulate across runs.
        """
        self._stop.clear()
        self.interrupter.reset()
        self._max_runs = None if max_runs is None else self.stats.claimed + max_runs
        if self._register:
            self._register_self()
        tickers = Tickers(
            load_tickers(self) if self._tickers is None else self._tickers, self.tick_seconds
        )
        heartbeat = threading.Thread(
            target=self._heartbeat_loop, name="runwright-heartbeat", daemon=True
        )
        heartbeat.start()
        if self._wakeup is None and not until_idle:
            self._wakeup = wakeup_for(self.store, self._wake)
        failures = 0
        try:
            while not self._stop.is_set():
                if self._at_limit():
                    break
                try:
                    did_work = self._turn(tickers, until_idle)
                    failures = 0
                except StorageError as exc:
                    failures += 1
                    delay = min(0.2 * 2**failures, 10.0)
                    log.warning("store unavailable (%s); retrying in %.1fs", exc, delay)
                    self._stop.wait(delay)
                    continue
                if did_work:
                    continue
                if until_idle:
                    break
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
        finally:
            self._stop.set()
            self._release_prefetched()
            heartbeat.join(timeout=5)
            if self._wakeup is not None:
                self._wakeup.close()
            if self._register:
                try:
                    self.store.stop_worker(self.worker_id, self.clock.now())
                except StorageError:
                    log.warning("could not record worker %s as stopped", self.worker_id)
        return self.stats

    def _turn(self, tickers: Tickers, until_idle: bool) -> bool:
        """One turn of the loop; True if it did something (so look for more at once)."""
        # Tickers run on starting, on an interval while busy, and whenever nothing is
        # claimable (what they start may be claimable then).
        ticked = tickers.run() if tickers.due() else None
        did_work = self.run_once()
        if not did_work:
            did_work = tickers.run() if ticked is None else ticked
        if not did_work and until_idle:  # idle, unless there is a job to learn or a lease
            did_work = self._discovery.learn(force=True) or self._wait_for_gone()
        return did_work

    def _register_self(self) -> None:
        now = self.clock.now()
        self._recorded_jobs = job_names()
        self.store.register_worker(
            WorkerInfo(
                worker_id=self.worker_id,
                hostname=socket.gethostname(),
                pid=os.getpid(),
                started_at=now,
                heartbeat_at=now,
                version=__version__,
                jobs=self._recorded_jobs,
            )
        )

    def run_once(self, *, prefetch: bool = True) -> bool:
        """Claim and execute one run; False if nothing was ready.

        With ``prefetch`` the run's last transaction also claims the next run (kept for the
        next call), saving a commit per run.
        """
        claim, self._next = self._next, None
        if claim is None:
            claim = self._claim()
        if claim is None:
            return False
        self.stats.claimed += 1
        with self._lease_lock:  # a heartbeat about the previous run can no longer reach this one
            self.interrupter.reset()
            if self._stop.is_set():
                self.interrupter.request(interrupts.STOP)
            self._lease = claim.lease
        started = time.monotonic()
        more = prefetch and not self._stop.is_set() and not self._at_limit()
        ask = ClaimRequest(self.worker_id, self.lease_seconds, job_names()) if more else None
        try:
            state = self.executor.execute(claim, claim_next=ask)
            self._next = self.executor.next_claim
        finally:
            with self._lease_lock:
                self._lease = None
        if self._on_run is not None:
            self._on_run(claim, state, time.monotonic() - started)
        if state is None:
            self.stats.abandoned += 1
        elif state == RunState.WAITING:
            self.stats.parked += 1
        else:
            self.stats.finished[state.value] = self.stats.finished.get(state.value, 0) + 1
        return True

    def _claim(self) -> Claim | None:
        """Claim a ready run of a job this worker knows; with none, learn the jobs of ready
        runs it does not know (by importing their modules) and try once more."""
        claim = self.store.claim_run(
            self.worker_id, self.clock.now(), self.lease_seconds, jobs=job_names()
        )
        if claim is None and self._discovery.learn():
            claim = self.store.claim_run(
                self.worker_id, self.clock.now(), self.lease_seconds, jobs=job_names()
            )
        return claim

    def _wait_for_gone(self) -> bool:
        """With nothing to claim: if a run is leased by a worker that is gone (a SIGKILL
        leaves its lease running), wait for the lease to expire so that the next claim takes
        the run over (learning its job first if need be); True if we waited."""
        now = self.clock.now()
        gone = [
            held
            for held in self.store.held_leases(now)
            if held.owner != self.worker_id and holder_is_gone(held, now)
        ]
        if not gone:
            return False
        first = min(gone, key=lambda held: held.expires_at)
        delay = max((first.expires_at - now).total_seconds(), 0.0) + 0.05
        log.warning(
            "run %s is leased by worker %s, which is gone; waiting %.1fs for the lease to "
            "expire to take the run over",
            first.run_id,
            first.owner,
            delay,
        )
        if isinstance(self.clock, SystemClock):
            self._stop.wait(delay)
        else:
            self.clock.sleep(delay)
        return not self._stop.is_set()

    # ---- heartbeat --------------------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.heartbeat_seconds):
            self.heartbeat()

    def heartbeat(self) -> None:
        """Renew the current lease and the worker's own liveness record."""
        with self._lease_lock:
            lease = self._lease
        now = self.clock.now()
        try:
            if lease is not None:
                status = self.store.renew_lease(lease, now, self.lease_seconds)
                with self._lease_lock:
                    # The run may have ended (and the next begun) while we renewed: the answer
                    # is about ``lease`` only, never about whatever runs now.
                    if self._lease is lease:
                        if not status.held:
                            self.interrupter.request(interrupts.LEASE_LOST)
                        elif status.cancel_requested:
                            self.interrupter.request(interrupts.CANCEL)
            if self._register:
                jobs = job_names()
                learned = jobs if jobs != self._recorded_jobs else None
                self.store.heartbeat_worker(
                    self.worker_id, now, lease.run_id if lease else None, jobs=learned
                )
                if learned is not None:
                    self._recorded_jobs = learned
        except StorageError as exc:
            log.warning("heartbeat failed: %s", exc)
