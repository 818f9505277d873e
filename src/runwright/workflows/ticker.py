"""The workflow scheduler, run by every worker between claims (a core "ticker").

On its first call (a worker starting) it recovers: every consumer of an active workflow is made
dirty (each prepares once), failed handler runs left without a ``state_reason`` get their status
as one and open handler runs whose core run ended are settled (both for runs that ended before
the handler runs' run-end hook did this in the transaction of the end), maintenance without a
repair run gets one, and reserved events nobody can consume are logged (never silently
released). Then, on every call, each runnable workflow without an active run whose producer is
due, whose consumer is dirty or whose ``wake_at`` passed, or which has a retry waiting, gets
its next run. A handler run whose core run ends other than by its host's commit (a cancel by
hand, a failure outside the host) is closed by the run-end hook in the transaction that ends
it, so nothing polls for those. Runs interrupted by a dead worker are recovered by the core's
lease takeover: the next execution of the run sees it was interrupted (a mutation in flight is
reconciled, anything else is marked crashed and its events released).

"Dirty" lives in the database (set by every publish in the publishing transaction, cleared
only by a commit that reserved nothing), so it is shared by all workers and survives restarts;
a topic nobody subscribes to marks nobody dirty, so old events there cannot cause a busy loop.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

from runwright.engine.clock import Clock
from runwright.engine.worker import Worker
from runwright.store.workflows import WorkflowStore

log = logging.getLogger(__name__)

_tickers: weakref.WeakKeyDictionary[Worker, WorkflowTicker] = weakref.WeakKeyDictionary()


class WorkflowTicker:
    """Start-up recovery once, then scheduling on every call."""

    def __init__(self, ws: WorkflowStore, clock: Clock):
        self.ws = ws
        self.clock = clock
        self.started = False

    def startup(self) -> None:
        """What a restart does before scheduling anything."""
        now = self.clock.now()
        self.ws.mark_consumers_dirty(now)
        for run_id in self.ws.anomalies():
            outcome = self.ws.settle_anomaly(run_id, now)
            log.warning("handler run %s was open although its run ended: %s", run_id, outcome)
        self.ws.fill_missing_reasons()
        orphans = self.ws.orphaned_reservations()
        if orphans:
            log.error(
                "%d reserved event(s) belong to no live run or pending retry (not released; "
                "investigate): %s",
                len(orphans),
                ", ".join(orphans[:20]),
            )
        self.ws.repairs_to_start(now)

    def __call__(self) -> bool:
        if not self.started:
            self.startup()
            self.started = True
        now = self.clock.now()
        started = False
        for name in self.ws.due_workflows(now):
            if self.ws.start_next(name, now):
                started = True
        return started


def make_ticker(worker: Worker) -> Callable[[], bool] | None:
    """The workflow ticker of ``worker`` (one per worker object: a new worker is a restart)."""
    db = worker.store.db
    import runwright.workflows.jobs  # noqa: F401 - registers the handler jobs in this worker

    found = _tickers.get(worker)
    if found is None:
        found = WorkflowTicker(WorkflowStore(db), worker.clock)
        _tickers[worker] = found
    return found
