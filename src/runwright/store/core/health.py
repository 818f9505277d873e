"""Health: which runs are stranded (neither progressing nor waiting on something named)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, or_, select

from runwright.domain.states import ACTIVE_RUN_STATES, RunState, StateReason
from runwright.store.core.lifecycle import open_count
from runwright.store.core.records import StrandedRun
from runwright.store.core.worker_registry import ready
from runwright.store.database import Database
from runwright.store.schema import run_deps, runs, workers
from runwright.store.types import loads

#: Waiting reasons that name what the run waits for (a human, a reconcile, an approval…).
NAMED_WAITS = (
    StateReason.PAUSED_APPROVAL,
    StateReason.PAUSED_RECONCILIATION,
    StateReason.PAUSED_TRANSIENT,
    StateReason.ESCALATED,
    StateReason.WAITING_HUMAN,
    StateReason.OVER_TIMEBOX,
)
_ACTIVE = [s.value for s in ACTIVE_RUN_STATES]


def _is_named_wait(reason: str | None) -> bool:
    return bool(reason) and any(reason == r or reason.startswith(r + ":") for r in NAMED_WAITS)  # type: ignore[union-attr]


class HealthOps:
    """The stranded-run detector."""

    db: Database

    def find_stranded(
        self, now: datetime, *, worker_timeout: float, limit: int = 500
    ) -> list[StrandedRun]:
        """Runs that are neither progressing nor waiting on something named (oldest first)."""
        alive_since = now - timedelta(seconds=worker_timeout)

        def tx(conn: Connection) -> list[StrandedRun]:
            known = (
                conn.execute(
                    select(workers.c.jobs).where(
                        workers.c.heartbeat_at >= alive_since, workers.c.stopped_at.is_(None)
                    )
                )
                .scalars()
                .all()
            )
            alive = len(known)
            found: list[StrandedRun] = []
            candidates = conn.execute(
                select(
                    runs.c.run_id,
                    runs.c.state,
                    runs.c.state_reason,
                    runs.c.job_name,
                    runs.c.available_at,
                    runs.c.lease_expires_at,
                    runs.c.pending_deps,
                    runs.c.wait_for,
                )
                .where(
                    runs.c.state.in_(_ACTIVE),
                    ~and_(
                        runs.c.state == RunState.RUNNING.value,
                        runs.c.lease_expires_at >= now,
                    ),
                    # A run with a ready time is progressing as long as some worker is alive;
                    # only runs without one need a closer look.
                    runs.c.available_at.is_(None)
                    if alive
                    else or_(runs.c.available_at.is_(None), runs.c.available_at <= now),
                )
                .order_by(runs.c.run_id)
                .limit(limit)
            ).all()
            for r in candidates:
                problem = _diagnose(conn, r, now, has_worker=alive > 0)
                if problem:
                    found.append(
                        StrandedRun(
                            run_id=r.run_id,
                            state=RunState(r.state),
                            job_name=r.job_name,
                            problem=problem[0],
                            hint=problem[1],
                        )
                    )
            if alive and all(jobs is not None for jobs in known):
                found += _unknown_jobs(conn, now, known, limit)
            return sorted(found, key=lambda s: s.run_id)[:limit]

        return self.db.run(tx, write=False)


def _unknown_jobs(
    conn: Connection, now: datetime, known_lists: Sequence[str | None], limit: int
) -> list[StrandedRun]:
    """Ready runs of a job that no live worker knows (each worker records its jobs; one
    that recorded none claims anything, and then the caller does not ask)."""
    known: set[str] = set()
    for text in known_lists:
        value = loads(text)
        if isinstance(value, list):
            known.update(str(v) for v in value)
    q = (
        select(runs.c.run_id, runs.c.state, runs.c.job_name, runs.c.job_module)
        .where(runs.c.state.in_(_ACTIVE), ready(now))
        .order_by(runs.c.run_id)
        .limit(limit)
    )
    if known:
        q = q.where(runs.c.job_name.not_in(sorted(known)))
    found = []
    for r in conn.execute(q):
        module = r.job_module if r.job_module and r.job_module != "__main__" else None
        hint = (
            f"start a worker that imports it (`runwright worker --import {module}`); a worker "
            "started before the job was added does not know it: restart it"
            if module
            else "start a worker whose imports register it"
        )
        found.append(
            StrandedRun(
                run_id=r.run_id,
                state=RunState(r.state),
                job_name=r.job_name,
                problem=f"no live worker knows job {r.job_name!r}",
                hint=hint,
            )
        )
    return found


def _diagnose(
    conn: Connection, r: object, now: datetime, *, has_worker: bool
) -> tuple[str, str] | None:
    state = RunState(r.state)  # type: ignore[attr-defined]
    reason: str | None = r.state_reason  # type: ignore[attr-defined]
    available_at: datetime | None = r.available_at  # type: ignore[attr-defined]
    start_worker = "start one with `runwright worker`"
    if available_at is not None:
        if available_at <= now and not has_worker:
            what = "its worker stopped and" if state == RunState.RUNNING else "it is ready but"
            return (f"{what} no worker is running", start_worker)
        return None
    if state == RunState.PENDING:
        deps = list(
            conn.execute(
                select(run_deps.c.depends_on_run_id).where(run_deps.c.run_id == r.run_id)  # type: ignore[attr-defined]
            ).scalars()
        )
        if not deps:
            return (
                "pending with nothing to wait on and no time to start",
                "cancel it and start again",
            )
        if open_count(conn, deps) == 0:
            return (
                "all its dependencies ended but it was never released",
                "cancel it and start again; report this as a bug",
            )
        return None
    if state == RunState.WAITING:
        if reason == StateReason.WAITING_CHILDREN:
            wait_for = loads(r.wait_for) or []  # type: ignore[attr-defined]
            if open_count(conn, wait_for) == 0:
                return (
                    "waiting on children that have all ended",
                    "cancel it; report this as a bug",
                )
            return None
        if _is_named_wait(reason):
            return None
        return (
            f"waiting ({reason or 'no reason'}) on nothing named",
            "cancel it or resolve it by hand",
        )
    if state == RunState.RUNNING:
        return ("running without a lease or a time to resume", "cancel it and start again")
    return None
