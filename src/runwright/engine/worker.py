"""The worker: claim ready runs with a lease, keep the lease alive, execute, repeat.

A worker runs ``runs_at_once`` runs at the same time. With one, everything happens in the
calling thread (a step's timeout or cancellation interrupts even a blocking call there). With
more, each run has a slot of its own — a thread with its own executor, interrupter, lease and
prefetched claim, taking connections from the store's pool — while the calling thread runs the
tickers, turns wake-up signals and polls into "look again" for idle slots and, with
``until_idle``, decides when nothing is left. One heartbeat thread renews every slot's lease.

Idle slots are sent back to claiming one at a time, as a relay: a wake-up or a poll sends one
idle slot, and each slot that claims a run sends one more. A newly enqueued run thus costs one
claim, not one per idle slot (all of them racing for it slowed the winner down several times
over), while many ready runs still spread over the slots one claim after another.
On PostgreSQL the commits of concurrent runs share the server's WAL flushes; SQLite has one
writer at a time.
"""

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
from runwright.store.blobs import BlobStore
from runwright.store.core import Claim, ClaimRequest, Lease, SystemDatabase, WorkerInfo
from runwright.version import __version__

log = logging.getLogger(__name__)

#: The most runs one worker process runs at once: each run in flight holds a pooled connection
#: (the store pins one per executing thread), and the pool (5 + 10 overflow) must keep room for
#: the heartbeat, the tickers and the wake-up listener.
MAX_RUNS_AT_ONCE = 12

#: How many runs a worker process runs at once unless told, per database, by measurement
#: (bench/worker_concurrency.py, docs/workers.md): on PostgreSQL 8 at once drained W2 about 4x
#: faster than 1 (concurrent commits share WAL flushes); on SQLite, with one writer at a time,
#: 2, 4 or 8 at once were no faster than 1, and one run keeps interrupts in the main thread.
DEFAULT_RUNS_AT_ONCE = {"sqlite": 1, "postgresql": 8}


def default_runs_at_once(dialect: str) -> int:
    """The measured default for a database dialect (``sqlite`` or ``postgresql``)."""
    return DEFAULT_RUNS_AT_ONCE.get(dialect, 1)


@dataclass
class WorkerStats:
    """What a worker did."""

    claimed: int = 0
    finished: dict[str, int] = field(default_factory=dict)
    parked: int = 0
    abandoned: int = 0

    def copy(self) -> WorkerStats:
        """A snapshot (the counters keep moving while runs are in flight)."""
        return WorkerStats(self.claimed, dict(self.finished), self.parked, self.abandoned)

    @property
    def done(self) -> int:
        """Runs whose execution ended (finished, parked or handed back)."""
        return sum(self.finished.values()) + self.parked + self.abandoned


@dataclass(frozen=True)
class InFlight:
    """A run a slot is executing now."""

    run_id: str
    job_name: str
    since: float  # time.monotonic() when its execution began


class _Slot:
    """Room for one run at a time: its own interrupter, executor, lease and prefetched claim."""

    def __init__(self, worker: Worker, index: int, evidence_dir: Path, project_root: Path | None):
        self.index = index
        self.interrupter = Interrupter()
        self.executor = Executor(
            store=worker.store,
            clock=worker.clock,
            blobs=BlobStore(evidence_dir),
            worker_id=worker.worker_id,
            interrupter=self.interrupter,
            project_root=project_root,
        )
        self.lease: Lease | None = None
        self.next: Claim | None = None
        self.current: InFlight | None = None


class Worker:
    """Claims and executes runs until stopped (or, with ``until_idle``, until none is ready)."""

    def __init__(
        self,
        store: SystemDatabase,
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
        runs_at_once: int = 1,
    ):
        if not 1 <= runs_at_once <= MAX_RUNS_AT_ONCE:
            raise ValueError(f"runs_at_once must be 1..{MAX_RUNS_AT_ONCE}, not {runs_at_once}")
        self.store = store
        self.clock = clock or SystemClock()
        self.lease_seconds = lease_seconds
        self.heartbeat_seconds = max(lease_seconds / 3, 0.05)
        self.poll_seconds = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{new_id()[-6:]}"
        self.runs_at_once = runs_at_once
        self._slots = [_Slot(self, i, evidence_dir, project_root) for i in range(runs_at_once)]
        self.stats = WorkerStats()
        self._stats_lock = threading.Lock()
        self._tickets = 0  # claims made or being made (max_runs counts these)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lease_lock = threading.Lock()
        self._wakeup = wakeup
        self._register = register
        self._on_run = on_run
        self._max_runs: int | None = None
        self._tickers = tickers
        self.tick_seconds = tick_seconds
        self.settings = settings
        self._discovery = JobDiscovery(store, self.clock.now)
        self._learning = threading.Lock()
        self._recorded_jobs: tuple[str, ...] | None = None
        # Slots with nothing to claim wait for a permit to look again (see _look_again).
        self._cond = threading.Condition()
        self._permits = 0
        self._idle = 0
        self._until_idle = False
        self._failure: BaseException | None = None

    # ---- the first slot, as the single-run worker always had it ------------------------
    @property
    def interrupter(self) -> Interrupter:
        """The first slot's interrupter (the only one with ``runs_at_once=1``)."""
        return self._slots[0].interrupter

    @property
    def executor(self) -> Executor:
        """The first slot's executor."""
        return self._slots[0].executor

    @property
    def _lease(self) -> Lease | None:
        return self._slots[0].lease

    @_lease.setter
    def _lease(self, lease: Lease | None) -> None:
        self._slots[0].lease = lease

    @property
    def _next(self) -> Claim | None:
        return self._slots[0].next

    @_next.setter
    def _next(self, claim: Claim | None) -> None:
        self._slots[0].next = claim

    # ---- control ----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop after the current step (each run is handed back at its next step boundary)."""
        self._stop.set()
        self._wake.set()
        for slot in self._slots:
            slot.interrupter.request(interrupts.STOP)

    def wake(self) -> None:
        """Look for work now instead of at the next poll."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """True once stop() was called."""
        return self._stop.is_set()

    def snapshot(self) -> tuple[WorkerStats, list[InFlight]]:
        """The counters so far and the runs in flight (for a live display, read on a timer)."""
        with self._stats_lock:
            stats = self.stats.copy()
        return stats, [s.current for s in self._slots if s.current is not None]

    # ---- main loop --------------------------------------------------------------------
    def _at_limit(self) -> bool:
        return self._max_runs is not None and self.stats.claimed >= self._max_runs

    def _take_ticket(self) -> bool:
        """Reserve one claim under ``max_runs`` (slots claim concurrently)."""
        with self._stats_lock:
            if self._max_runs is not None and self._tickets >= self._max_runs:
                return False
            self._tickets += 1
            return True

    def _return_ticket(self) -> None:
        with self._stats_lock:
            self._tickets -= 1

    def _release_prefetched(self) -> None:
        for slot in self._slots:
            claim, slot.next = slot.next, None
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
        self._failure = None
        for slot in self._slots:
            slot.interrupter.reset()
        self._max_runs = None if max_runs is None else self.stats.claimed + max_runs
        self._tickets = self.stats.claimed
        self._until_idle = until_idle
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
        try:
            if self.runs_at_once == 1:
                self._run_alone(tickers, until_idle)
            else:
                self._run_slots(tickers, until_idle)
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
        if self._failure is not None:
            raise self._failure
        return self.stats

    def _run_alone(self, tickers: Tickers, until_idle: bool) -> None:
        """One run at a time, in the calling thread."""
        failures = 0
        while not self._stop.is_set():
            if self._at_limit():
                break
            try:
                did_work = self._turn(tickers, until_idle)
                failures = 0
            except StorageError as exc:
                failures += 1
                self._back_off(exc, failures)
                continue
            if did_work:
                continue
            if until_idle:
                break
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _back_off(self, exc: StorageError, failures: int) -> None:
        delay = min(0.2 * 2**failures, 10.0)
        log.warning("store unavailable (%s); retrying in %.1fs", exc, delay)
        self._stop.wait(delay)

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

    # ---- several runs at once -----------------------------------------------------------
    def _run_slots(self, tickers: Tickers, until_idle: bool) -> None:
        """Run every slot in a thread of its own; this thread coordinates until they end."""
        self._permits, self._idle = 0, 0
        threads = [
            threading.Thread(
                target=self._slot_main, args=(slot,), name=f"runwright-run-{slot.index}"
            )
            for slot in self._slots
        ]
        for thread in threads:
            thread.start()
        try:
            self._coordinate(tickers, until_idle, threads)
        finally:
            self.stop()  # runs still in flight (an error, Ctrl-C) are handed back at a boundary
            self._look_again(every_slot=True)
            for thread in threads:
                thread.join()

    def _coordinate(
        self, tickers: Tickers, until_idle: bool, threads: list[threading.Thread]
    ) -> None:
        """Tickers, polls and wake-ups for the slots; with ``until_idle``, the decision that
        nothing is left (every slot idle in the same round and nothing else to do)."""
        n = len(self._slots)
        wait = self.tick_seconds if until_idle else min(self.poll_seconds, self.tick_seconds)
        first = True
        while not self._stop.is_set() and any(t.is_alive() for t in threads):
            woke = first or self._wake.wait(wait)
            first = False
            self._wake.clear()
            if self._stop.is_set():
                break
            all_idle = self._idle >= n
            try:
                did = tickers.run() if (tickers.due() or all_idle) else False
                if until_idle and all_idle and not did:
                    did = self._learn(force=True) or self._wait_for_gone()
                    if not did:
                        with self._cond:
                            if self._idle >= n and not self._permits:  # nothing started since
                                self._stop.set()
                                break
            except StorageError as exc:
                log.warning("store unavailable (%s); retrying", exc)
                did = True
            if did or not until_idle or not woke:
                self._look_again()

    def _look_again(self, *, every_slot: bool = False) -> None:
        """Send one idle slot back to claiming (new work may be ready), or every one.

        A permit no slot is idle to take waits for the next slot that finds nothing: a slot
        that was claiming when the new work committed looks again instead of going to sleep.
        """
        with self._cond:
            n = len(self._slots)
            sent = n if every_slot else 1
            self._permits = min(self._permits + sent, n)
            self._cond.notify(sent)

    def _slot_main(self, slot: _Slot) -> None:
        try:
            self._slot_loop(slot)
        except BaseException as exc:  # not a store outage: stop the worker and re-raise it
            log.exception("a worker thread failed; stopping the worker")
            self._failure = exc
            self.stop()
        finally:
            self._wake.set()  # the coordinator notices when the last slot is done

    def _slot_loop(self, slot: _Slot) -> None:
        failures = 0
        n = len(self._slots)
        while not self._stop.is_set() and not self._at_limit():
            try:
                did_work = self._run_in(slot, prefetch=True)
                failures = 0
            except StorageError as exc:
                failures += 1
                self._back_off(exc, failures)
                continue
            if did_work:
                continue
            with self._cond:
                if self._stop.is_set():
                    break
                self._idle += 1
                if self._idle >= n and self._until_idle:
                    self._wake.set()  # the coordinator decides whether anything is left
                while not self._permits and not self._stop.is_set():
                    self._cond.wait(1.0)
                self._idle -= 1
                if self._permits:
                    self._permits -= 1

    # ---- one run ------------------------------------------------------------------------
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
        """Claim and execute one run (in the first slot); False if nothing was ready.

        With ``prefetch`` the run's last transaction also claims the next run (kept for the
        next call), saving a commit per run.
        """
        return self._run_in(self._slots[0], prefetch=prefetch)

    def _slot_claim(self, slot: _Slot) -> Claim | None:
        """The slot's prefetched claim (it holds its ticket already), or a new one."""
        claim, slot.next = slot.next, None
        if claim is not None:
            return claim
        if not self._take_ticket():
            return None
        try:
            claim = self._claim()
        finally:
            if claim is None:
                self._return_ticket()
        return claim

    def _run_in(self, slot: _Slot, *, prefetch: bool) -> bool:
        claim = self._slot_claim(slot)
        if claim is None:
            return False
        with self._stats_lock:
            self.stats.claimed += 1
        if self._idle:  # the relay: another ready run may be waiting for an idle slot
            self._look_again()
        with self._lease_lock:  # a heartbeat about the previous run can no longer reach this one
            slot.interrupter.reset()
            if self._stop.is_set():
                slot.interrupter.request(interrupts.STOP)
            slot.lease = claim.lease
        started = time.monotonic()
        slot.current = InFlight(claim.run.run_id, claim.run.job_name, started)
        more = prefetch and not self._stop.is_set() and self._take_ticket()
        ask = ClaimRequest(self.worker_id, self.lease_seconds, job_names()) if more else None
        try:
            state = slot.executor.execute(claim, claim_next=ask)
            slot.next = slot.executor.next_claim
        finally:
            with self._lease_lock:
                slot.lease = None
            slot.current = None
            if more and slot.next is None:
                self._return_ticket()
        if self._on_run is not None:
            self._on_run(claim, state, time.monotonic() - started)
        with self._stats_lock:
            if state is None:
                self.stats.abandoned += 1
            elif state == RunState.WAITING:
                self.stats.parked += 1
            else:
                self.stats.finished[state.value] = self.stats.finished.get(state.value, 0) + 1
        return True

    def _learn(self, *, force: bool = False) -> bool:
        """Learn unknown jobs (one slot at a time; the others carry on without waiting)."""
        if not self._learning.acquire(blocking=False):
            return False
        try:
            return self._discovery.learn(force=force)
        finally:
            self._learning.release()

    def _claim(self) -> Claim | None:
        """Claim a ready run of a job this worker knows; with none, learn the jobs of ready
        runs it does not know (by importing their modules) and try once more."""
        claim = self.store.claim_run(
            self.worker_id, self.clock.now(), self.lease_seconds, jobs=job_names()
        )
        if claim is None and self._learn():
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
        """Renew every slot's lease and the worker's own liveness record."""
        now = self.clock.now()
        current: str | None = None
        try:
            for slot in self._slots:
                with self._lease_lock:
                    lease = slot.lease
                if lease is None:
                    continue
                current = current or lease.run_id
                status = self.store.renew_lease(lease, now, self.lease_seconds)
                with self._lease_lock:
                    # The run may have ended (and the next begun) while we renewed: the answer
                    # is about ``lease`` only, never about whatever runs now.
                    if slot.lease is lease:
                        if not status.held:
                            slot.interrupter.request(interrupts.LEASE_LOST)
                        elif status.cancel_requested:
                            slot.interrupter.request(interrupts.CANCEL)
            if self._register:
                jobs = job_names()
                learned = jobs if jobs != self._recorded_jobs else None
                self.store.heartbeat_worker(self.worker_id, now, current, jobs=learned)
                if learned is not None:
                    self._recorded_jobs = learned
        except StorageError as exc:
            log.warning("heartbeat failed: %s", exc)
