"""`runwright doctor`: is the store reachable, is the schema current, is anything stranded?"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from runwright.engine.clock import Clock
from runwright.engine.liveness import ProcessState, process_state
from runwright.errors import RunwrightError
from runwright.store.core import StrandedRun, SystemDatabase, WorkerInfo
from runwright.store.database import Database
from runwright.store.migrate import head_revisions, read_current


class Check(BaseModel):
    """One doctor check."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str
    hint: str | None = None


class WorkerStatus(BaseModel):
    """A worker that heartbeated recently, and whether it is still there."""

    model_config = ConfigDict(frozen=True)

    worker_id: str
    hostname: str
    pid: int
    status: str = Field(description="alive | dead (its process is gone) | silent")
    detail: str
    current_run_id: str | None = None
    lease_expires_at: datetime | None = None


class DoctorReport(BaseModel):
    """Every check, the recently seen workers, and the stranded runs found."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    checks: list[Check]
    stranded: list[dict[str, str]]
    workers: list[WorkerStatus] = Field(default_factory=list)


def diagnose(
    db: Database, store: SystemDatabase | None, clock: Clock, *, lease_seconds: float
) -> DoctorReport:
    """Run every check; never raises for a problem it can report."""
    checks: list[Check] = []
    try:
        current = read_current(db)
        checks.append(Check(name="store reachable", ok=True, detail=db.display_url))
    except RunwrightError as exc:
        checks.append(Check(name="store reachable", ok=False, detail=str(exc), hint=exc.hint))
        return DoctorReport(ok=False, checks=checks, stranded=[])
    heads = head_revisions()
    if current == heads:
        checks.append(Check(name="schema current", ok=True, detail=", ".join(sorted(current))))
    else:
        checks.append(
            Check(
                name="schema current",
                ok=False,
                detail=f"database at {', '.join(sorted(current)) or 'nothing'}; "
                f"this runwright expects {', '.join(sorted(heads))}",
                hint="run `runwright db upgrade`",
            )
        )
        return DoctorReport(ok=False, checks=checks, stranded=[])
    assert store is not None
    now = clock.now()
    recent = store.list_workers(alive_since=now - timedelta(seconds=lease_seconds * 2))
    workers = worker_statuses(store, recent, now, lease_seconds)
    checks.append(workers_check(workers))
    stranded: list[StrandedRun] = store.find_stranded(now, worker_timeout=lease_seconds * 2)
    checks.append(
        Check(
            name="stranded runs",
            ok=not stranded,
            detail=f"{len(stranded)} found" if stranded else "none",
            hint="see the list below" if stranded else None,
        )
    )
    return DoctorReport(
        ok=all(c.ok for c in checks),
        checks=checks,
        workers=workers,
        stranded=[
            {
                "run_id": s.run_id,
                "state": s.state.value,
                "job": s.job_name,
                "problem": s.problem,
                "hint": s.hint,
            }
            for s in stranded
        ],
    )


def worker_statuses(
    store: SystemDatabase, recent: list[WorkerInfo], now: datetime, lease_seconds: float
) -> list[WorkerStatus]:
    """Each recently heartbeating worker: alive, dead (its process on this host is gone) or
    silent (another host's worker whose heartbeat stopped; its lease has not expired yet)."""
    found: list[WorkerStatus] = []
    held = {h.owner: h for h in store.held_leases(now)} if recent else {}
    for w in recent:
        lease = held.get(w.worker_id)
        run_id = lease.run_id if lease else w.current_run_id
        expires = lease.expires_at if lease else None
        quiet = (now - w.heartbeat_at).total_seconds()
        state = process_state(w)
        if state is ProcessState.GONE:
            status = "dead"
            detail = f"pid {w.pid} on this host is gone"
        elif state is ProcessState.UNKNOWN and quiet > lease_seconds * 2 / 3:
            status = "silent"
            detail = f"no heartbeat for {quiet:.0f}s" + ("; lease not yet expired" if lease else "")
        else:
            status = "alive"
            detail = f"pid {w.pid} on {w.hostname}"
        if status != "alive" and run_id:
            when = f" until {expires:%H:%M:%S}Z" if expires else ""
            detail += f"; it holds run {run_id}{when}, then the next claim takes it over"
        found.append(
            WorkerStatus(
                worker_id=w.worker_id,
                hostname=w.hostname,
                pid=w.pid,
                status=status,
                detail=detail,
                current_run_id=run_id,
                lease_expires_at=expires,
            )
        )
    return found


def workers_check(workers: list[WorkerStatus]) -> Check:
    """The workers check: how many are alive, and which are dead or silent."""
    alive = [w for w in workers if w.status == "alive"]
    gone = [w for w in workers if w.status != "alive"]
    if not workers:
        return Check(
            name="workers", ok=True, detail="none running (start one with `runwright worker`)"
        )
    detail = f"{len(alive)} alive"
    if gone:
        detail += "; " + "; ".join(f"{w.worker_id} {w.status}: {w.detail}" for w in gone)
    hint = None
    if gone:
        hint = "a dead worker's runs are taken over when their leases expire" + (
            "" if alive else "; start a worker with `runwright worker`"
        )
    return Check(name="workers", ok=not gone, detail=detail, hint=hint)
