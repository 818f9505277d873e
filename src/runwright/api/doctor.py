"""`runwright doctor`: is the store reachable, is the schema current, is anything stranded?"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from runwright.engine.clock import Clock
from runwright.errors import RunwrightError
from runwright.store.base import StrandedRun
from runwright.store.database import Database
from runwright.store.migrate import head_revisions, read_current
from runwright.store.sql_store import SqlStore


class Check(BaseModel):
    """One doctor check."""

    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    detail: str
    hint: str | None = None


class DoctorReport(BaseModel):
    """Every check, and the stranded runs found."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    checks: list[Check]
    stranded: list[dict[str, str]]


def diagnose(
    db: Database, store: SqlStore | None, clock: Clock, *, lease_seconds: float
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
    alive = store.list_workers(alive_since=now - timedelta(seconds=lease_seconds * 2))
    checks.append(
        Check(
            name="workers",
            ok=True,
            detail=f"{len(alive)} alive"
            if alive
            else "none running (start one with `runwright worker`)",
        )
    )
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
