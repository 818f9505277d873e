"""The SQL store: one class over SQLite or PostgreSQL, assembled from its halves."""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection

from runwright.config import Settings
from runwright.domain.runs import Run
from runwright.store.core.health import HealthOps
from runwright.store.core.resolve import ResolveOps
from runwright.store.core.rows import run_from_row
from runwright.store.core.run_features import SELECT_RUNS
from runwright.store.core.run_queries import RunQueries
from runwright.store.core.worker_ops import WorkerOps
from runwright.store.core.worker_registry import WorkerRegistryOps
from runwright.store.database import Database
from runwright.store.migrate import ensure_schema
from runwright.store.schema import runs


class SystemDatabase(RunQueries, WorkerOps, WorkerRegistryOps, HealthOps, ResolveOps):
    """Every durable operation, each in one transaction, on one database."""

    def __init__(self, db: Database):
        self.db = db

    def get_runs(self, run_ids: list[str]) -> list[Run]:
        """Several runs at once, in the order asked (missing ids are left out)."""
        if not run_ids:
            return []

        def tx(conn: Connection) -> list[Run]:
            found = {}
            for start in range(0, len(run_ids), 500):
                chunk = run_ids[start : start + 500]
                for row in conn.execute(SELECT_RUNS.where(runs.c.run_id.in_(chunk))):
                    found[row.run_id] = run_from_row(row)
            return [found[r] for r in run_ids if r in found]

        return self.db.run(tx, write=False)

    def pinned(self) -> AbstractContextManager[None]:
        """While the block runs, this thread's transactions reuse one connection (a worker
        running a run: no pool checkout per durable step)."""
        return self.db.pinned()

    def close(self) -> None:
        """Close the database connections."""
        self.db.dispose()


def open_store(settings: Settings, *, migrate: bool | None = None) -> SystemDatabase:
    """Open the store named by ``settings``, bringing its schema up to date if allowed."""
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        ensure_schema(db, auto_migrate=settings.auto_migrate if migrate is None else migrate)
    except BaseException:
        db.dispose()
        raise
    return SystemDatabase(db)
