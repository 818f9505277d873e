"""Prebuilt statements for the hot paths.

Building a SQLAlchemy statement costs several times more than executing a prebuilt one, so the
statements run once per step or per claim are built once per shape and cached here.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Update, bindparam, select

from runwright.store.driver_sql import DriverStatement
from runwright.store.schema import runs


@lru_cache(maxsize=64)
def fenced_driver(
    values: frozenset[str],
    deltas: frozenset[str] = frozenset(),
    *,
    check_seq: bool = True,
    returning: tuple[str, ...] = (),
) -> DriverStatement:
    """``fenced_update`` run through the driver (its RETURNING columns come back untyped)."""
    return DriverStatement(fenced_update(values, deltas, check_seq=check_seq, returning=returning))


@lru_cache(maxsize=64)
def fenced_update(
    values: frozenset[str],
    deltas: frozenset[str] = frozenset(),
    *,
    check_seq: bool = True,
    returning: tuple[str, ...] = (),
) -> Update:
    """UPDATE runs under a lease: ``WHERE run_id, lease_owner, attempt [, event_seq]``.

    Parameters: ``b_run, b_owner, b_attempt, b_seq``; ``v_<col>`` for each set value and
    ``d_<col>`` for each increment; the chain head is set from ``v_event_seq`` and
    ``v_last_event_hash`` like any other value.
    """
    conditions = [
        runs.c.run_id == bindparam("b_run"),
        runs.c.lease_owner == bindparam("b_owner"),
        runs.c.attempt == bindparam("b_attempt"),
    ]
    if check_seq:
        conditions.append(runs.c.event_seq == bindparam("b_seq"))
    sets: dict[str, object] = {k: bindparam(f"v_{k}") for k in sorted(values)}
    sets.update({k: runs.c[k] + bindparam(f"d_{k}") for k in sorted(deltas)})
    stmt = runs.update().where(*conditions).values(sets)
    if returning:
        stmt = stmt.returning(*(runs.c[c] for c in returning))
    return stmt


@lru_cache(maxsize=16)
def claim_candidates(skip_locked: bool, batch: int, jobs: int = 0) -> DriverStatement:
    """The oldest ready runs, with their parent's max_parallel (parameter ``now``); with
    ``jobs`` > 0 only runs of the jobs named by the parameters ``job_0`` … ``job_<jobs-1>``
    (a worker's job list does not change, so its statement is compiled once)."""
    from sqlalchemy import or_

    parent = runs.alias("parent")
    now: Any = bindparam("now")
    q = (
        select(runs, parent.c.max_parallel.label("parent_max_parallel"))
        .select_from(runs.outerjoin(parent, parent.c.run_id == runs.c.parent_run_id))
        .where(
            runs.c.available_at <= now,
            or_(runs.c.lease_expires_at.is_(None), runs.c.lease_expires_at < now),
            or_(
                parent.c.run_id.is_(None),
                parent.c.max_parallel.is_(None),
                parent.c.running_children < parent.c.max_parallel,
                runs.c.state == "running",
            ),
        )
        .order_by(runs.c.available_at, runs.c.run_id)
        .limit(batch)
    )
    if jobs:
        q = q.where(runs.c.job_name.in_([bindparam(f"job_{i}") for i in range(jobs)]))
    if skip_locked:
        q = q.with_for_update(skip_locked=True, of=runs)
    return DriverStatement(q)


TAKE_PARENT_SLOT = DriverStatement(
    runs.update()
    .where(
        runs.c.run_id == bindparam("b_parent"),
        runs.c.running_children < runs.c.max_parallel,
    )
    .values(running_children=runs.c.running_children + 1)
)

CLAIM = (
    runs.update()
    .where(runs.c.run_id == bindparam("b_run"))
    .values(
        state="running",
        state_reason=None,
        attempt=bindparam("v_attempt"),
        lease_owner=bindparam("v_owner"),
        lease_expires_at=bindparam("v_expires"),
        started_at=bindparam("v_started"),
        deadline_at=bindparam("v_deadline"),
        wake_at=None,
        wait_for=None,
        updated_at=bindparam("v_now"),
        event_seq=bindparam("v_seq"),
        last_event_hash=bindparam("v_hash"),
    )
)

CLAIM_SQL = DriverStatement(CLAIM)

RENEW = DriverStatement(
    runs.update()
    .where(
        runs.c.run_id == bindparam("b_run"),
        runs.c.lease_owner == bindparam("b_owner"),
        runs.c.attempt == bindparam("b_attempt"),
    )
    .values(lease_expires_at=bindparam("v_expires"))
    .returning(runs.c.cancel_requested)
)
