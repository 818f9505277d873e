"""Persistence of the spend of agent calls made for plan delegations (their budgets).

One row per call, keyed by the agent-tool run, the tool and the attempt: a call recorded again
after a crash replaces its row instead of counting twice. Each method is one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, select

from runwright.domain.spend import SpendRow
from runwright.store.database import Database
from runwright.store.schema.plans import plan_spend


def _row(r: Row[Any]) -> SpendRow:
    return SpendRow(
        run_id=r.run_id,
        agent_run_id=r.agent_run_id,
        tool=r.tool,
        attempt=r.attempt,
        phase_id=r.phase_id,
        round=r.round,
        task_id=r.task_id,
        input_tokens=r.input_tokens,
        output_tokens=r.output_tokens,
        cost_usd=r.cost_usd,
        cost_estimated=r.cost_estimated,
        wall_seconds=r.wall_seconds,
        session_id=r.session_id,
        stopped_by=r.stopped_by,
        recorded_at=r.recorded_at,
    )


class SpendStore:
    """The plan_spend table over one Database."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, row: SpendRow) -> None:
        """Store one call's spend (again: the newer record replaces the older)."""
        key = (
            plan_spend.c.agent_run_id == row.agent_run_id,
            plan_spend.c.tool == row.tool,
            plan_spend.c.attempt == row.attempt,
        )
        values = row.model_dump(exclude={"agent_run_id", "tool", "attempt"})

        def tx(conn: Connection) -> None:
            if conn.execute(select(plan_spend.c.attempt).where(*key)).first() is None:
                conn.execute(
                    plan_spend.insert().values(
                        agent_run_id=row.agent_run_id, tool=row.tool, attempt=row.attempt, **values
                    )
                )
            else:
                conn.execute(plan_spend.update().where(*key).values(**values))

        self.db.run(tx)

    def rows(self, run_id: str) -> list[SpendRow]:
        """Every call made for a plan run, in the order they were recorded."""
        return self.rows_of([run_id]).get(run_id, [])

    def rows_of(self, run_ids: Sequence[str]) -> dict[str, list[SpendRow]]:
        """The calls of several plan runs (one read): run id → its rows in order."""
        out: dict[str, list[SpendRow]] = {run_id: [] for run_id in run_ids}
        ids = list(out)
        with self.db.transaction(write=False) as conn:
            for start in range(0, len(ids), 500):
                q = (
                    select(plan_spend)
                    .where(plan_spend.c.run_id.in_(ids[start : start + 500]))
                    .order_by(
                        plan_spend.c.run_id,
                        plan_spend.c.recorded_at,
                        plan_spend.c.agent_run_id,
                        plan_spend.c.attempt,
                    )
                )
                for r in conn.execute(q):
                    out[r.run_id].append(_row(r))
        return out
