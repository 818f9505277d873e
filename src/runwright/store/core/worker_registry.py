"""The worker registry: who is working, which jobs each knows, and whose leases are held."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from runwright.domain.states import RunState
from runwright.store.core.records import HeldLease, WorkerInfo
from runwright.store.database import Database
from runwright.store.schema import runs, workers
from runwright.store.types import dumps, loads


def _jobs_text(jobs: tuple[str, ...] | None) -> str | None:
    return None if jobs is None else dumps(list(jobs))


def _jobs(text: str | None) -> tuple[str, ...] | None:
    try:
        value = loads(text)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    return tuple(str(v) for v in value)


def worker_from_row(r: Any) -> WorkerInfo:
    """A WorkerInfo from a ``workers`` row."""
    return WorkerInfo(
        worker_id=r.worker_id,
        hostname=r.hostname,
        pid=r.pid,
        started_at=r.started_at,
        heartbeat_at=r.heartbeat_at,
        version=r.version,
        stopped_at=r.stopped_at,
        current_run_id=r.current_run_id,
        jobs=_jobs(r.jobs),
    )


def ready(now: datetime) -> Any:
    """Runs claimable at ``now`` by a worker that knows their job (a SQL condition)."""
    return (runs.c.available_at <= now) & or_(
        runs.c.lease_expires_at.is_(None), runs.c.lease_expires_at < now
    )


class WorkerRegistryOps:
    """Workers, the jobs they know, and the leases they hold."""

    db: Database

    def register_worker(self, info: WorkerInfo) -> None:
        """Record a worker process as started, with the jobs it knows."""
        self.db.run(
            lambda conn: conn.execute(
                workers.insert().values(
                    worker_id=info.worker_id,
                    hostname=info.hostname,
                    pid=info.pid,
                    started_at=info.started_at,
                    heartbeat_at=info.heartbeat_at,
                    version=info.version,
                    current_run_id=None,
                    jobs=_jobs_text(info.jobs),
                )
            )
        )

    def heartbeat_worker(
        self,
        worker_id: str,
        now: datetime,
        current_run_id: str | None,
        *,
        jobs: tuple[str, ...] | None = None,
    ) -> None:
        """Record that a worker is alive, what it is running and (if given) the jobs it
        knows now."""
        values: dict[str, Any] = {"heartbeat_at": now, "current_run_id": current_run_id}
        if jobs is not None:
            values["jobs"] = _jobs_text(jobs)
        self.db.run(
            lambda conn: conn.execute(
                workers.update().where(workers.c.worker_id == worker_id).values(**values)
            )
        )

    def stop_worker(self, worker_id: str, now: datetime) -> None:
        """Record that a worker stopped cleanly."""
        self.db.run(
            lambda conn: conn.execute(
                workers.update()
                .where(workers.c.worker_id == worker_id)
                .values(stopped_at=now, current_run_id=None)
            )
        )

    def list_workers(self, *, alive_since: datetime | None = None) -> list[WorkerInfo]:
        """Workers, newest first; only those heartbeating since ``alive_since`` if given."""
        q = select(workers).order_by(workers.c.started_at.desc())
        if alive_since is not None:
            q = q.where(workers.c.heartbeat_at >= alive_since, workers.c.stopped_at.is_(None))
        rows = self.db.run(lambda conn: conn.execute(q).all(), write=False)
        return [worker_from_row(r) for r in rows]

    def ready_unknown_jobs(
        self,
        now: datetime,
        known: tuple[str, ...],
        *,
        skip_modules: tuple[str, ...] = (),
        limit: int = 20,
    ) -> list[tuple[str, str | None]]:
        """``(job_name, job_module)`` of ready runs whose job is not in ``known`` (and whose
        module is not in ``skip_modules``): what a worker could learn by importing."""
        q = select(runs.c.job_name, runs.c.job_module).where(ready(now)).distinct().limit(limit)
        if known:
            q = q.where(runs.c.job_name.not_in(known))
        if skip_modules:
            q = q.where(or_(runs.c.job_module.is_(None), runs.c.job_module.not_in(skip_modules)))
        rows = self.db.run(lambda conn: conn.execute(q).all(), write=False)
        return [(r.job_name, r.job_module) for r in rows]

    def held_leases(self, now: datetime, *, jobs: tuple[str, ...] | None = None) -> list[HeldLease]:
        """Running runs (of ``jobs`` if given) whose lease has not expired, each with the
        record of the worker holding it (None if that worker never registered)."""
        q = (
            select(
                runs.c.run_id,
                runs.c.job_name,
                runs.c.lease_owner,
                runs.c.lease_expires_at,
                workers,
            )
            .select_from(runs.outerjoin(workers, workers.c.worker_id == runs.c.lease_owner))
            .where(runs.c.state == RunState.RUNNING.value, runs.c.lease_expires_at >= now)
            .order_by(runs.c.lease_expires_at)
        )
        if jobs is not None:
            q = q.where(runs.c.job_name.in_(jobs))

        def tx(conn: Connection) -> list[HeldLease]:
            return [
                HeldLease(
                    run_id=r.run_id,
                    job_name=r.job_name,
                    owner=r.lease_owner,
                    expires_at=r.lease_expires_at,
                    worker=worker_from_row(r) if r.worker_id is not None else None,
                )
                for r in conn.execute(q)
            ]

        return self.db.run(tx, write=False)
