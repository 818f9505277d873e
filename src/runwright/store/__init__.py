"""Persistence: the Store interface, its SQL implementation, migrations and evidence blobs."""

from runwright.store.base import (
    Claim,
    Lease,
    LeaseStatus,
    NewRun,
    RunFilter,
    StepOutcome,
    Store,
    StrandedRun,
    WorkerInfo,
)
from runwright.store.blobs import BlobStore
from runwright.store.database import Database
from runwright.store.sql_store import SqlStore, open_store

__all__ = [
    "BlobStore",
    "Claim",
    "Database",
    "Lease",
    "LeaseStatus",
    "NewRun",
    "RunFilter",
    "SqlStore",
    "StepOutcome",
    "Store",
    "StrandedRun",
    "WorkerInfo",
    "open_store",
]
