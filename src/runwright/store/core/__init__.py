"""The system database: runs, steps, events, evidence, leases and workers.

``SystemDatabase`` owns the durable record every part of the
product builds on; its SQLite and PostgreSQL differences are a few hooks of ``Database``
(``store.database``). The records it reads and writes (``Claim``, ``Lease``, ``NewRun``…) are in
``records``; the hot statements are named in ``statements``. What runs in the transaction
that ends a run (the core's cascade, then the parts' run-end hooks) is in ``run_end``.
"""

from runwright.store.core.chain import NewEvent
from runwright.store.core.records import (
    Claim,
    ClaimRequest,
    Finisher,
    FinisherFailed,
    HeldLease,
    Lease,
    NewRun,
    RunFilter,
    StepOutcome,
    StrandedRun,
    WorkerInfo,
)
from runwright.store.core.resolve import RESOLVE_ACTIONS
from runwright.store.core.run_end import (
    RunEnd,
    RunEndFailed,
    RunEndHook,
    on_run_end,
    remove_run_end_hook,
)
from runwright.store.core.system_database import SystemDatabase, open_store

__all__ = [
    "RESOLVE_ACTIONS",
    "Claim",
    "ClaimRequest",
    "Finisher",
    "FinisherFailed",
    "HeldLease",
    "Lease",
    "NewEvent",
    "NewRun",
    "RunEnd",
    "RunEndFailed",
    "RunEndHook",
    "RunFilter",
    "StepOutcome",
    "StrandedRun",
    "SystemDatabase",
    "WorkerInfo",
    "on_run_end",
    "open_store",
    "remove_run_end_hook",
]
