"""Routing state in the database: round-robin counters, tool outcomes, prompt instances."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Integer, cast, func, select

from runwright.domain.events import EventKind
from runwright.domain.patches_prompts import PromptInstance
from runwright.domain.router_decision import ToolStats
from runwright.errors import NotFound
from runwright.store.core.chain import NewEvent, append_locked
from runwright.store.database import Database
from runwright.store.patches.rows import prompt_from_row, prompt_row
from runwright.store.schema.patches import patch_prompts, patch_route_counters, patch_tool_runs

#: How many recent outcomes of a tool the auto strategy looks at.
STATS_WINDOW = 50


class RoutingStore:
    """Counters, tool statistics and prompts, each operation one transaction."""

    def __init__(self, db: Database):
        self.db = db

    def counters(self, project_id: str) -> dict[str, int]:
        """Each rule's round-robin counter."""
        q = select(patch_route_counters.c.rule_id, patch_route_counters.c.counter).where(
            patch_route_counters.c.project_id == project_id
        )
        return self.db.run(
            lambda conn: {r.rule_id: r.counter for r in conn.execute(q)}, write=False
        )

    def claim_counter(self, project_id: str, rule_id: str, now: datetime) -> int:
        """Take the rule's current counter and advance it, atomically; return the taken value."""
        key = (
            patch_route_counters.c.project_id == project_id,
            patch_route_counters.c.rule_id == rule_id,
        )

        def tx(conn: Connection) -> int:
            row = conn.execute(
                select(patch_route_counters.c.counter).where(*key).with_for_update()
            ).first()
            if row is None:
                conn.execute(
                    patch_route_counters.insert().values(
                        project_id=project_id, rule_id=rule_id, counter=1, updated_at=now
                    )
                )
                return 0
            taken = int(row.counter)
            conn.execute(
                patch_route_counters.update().where(*key).values(counter=taken + 1, updated_at=now)
            )
            return taken

        return self.db.run(tx)

    def record_tool_run(
        self,
        *,
        project_id: str,
        run_id: str,
        attempt_key: str,
        tool_id: str,
        success: bool,
        latency_seconds: float,
        now: datetime,
    ) -> None:
        """Record one outcome of a tool (idempotent per run and attempt)."""

        def tx(conn: Connection) -> None:
            exists = conn.execute(
                select(patch_tool_runs.c.run_id).where(
                    patch_tool_runs.c.run_id == run_id,
                    patch_tool_runs.c.attempt_key == attempt_key,
                )
            ).first()
            if exists is None:
                conn.execute(
                    patch_tool_runs.insert().values(
                        run_id=run_id,
                        attempt_key=attempt_key,
                        project_id=project_id,
                        tool_id=tool_id,
                        success=success,
                        latency_seconds=max(latency_seconds, 0.0),
                        recorded_at=now,
                    )
                )

        self.db.run(tx)

    def stats(self, project_id: str, tool_ids: Sequence[str]) -> dict[str, ToolStats]:
        """Success rate and average latency of each tool over its last outcomes."""

        def tx(conn: Connection) -> dict[str, ToolStats]:
            out = {}
            for tool in tool_ids:
                recent = (
                    select(patch_tool_runs.c.success, patch_tool_runs.c.latency_seconds)
                    .where(
                        patch_tool_runs.c.project_id == project_id,
                        patch_tool_runs.c.tool_id == tool,
                    )
                    .order_by(patch_tool_runs.c.recorded_at.desc())
                    .limit(STATS_WINDOW)
                    .subquery()
                )
                row = conn.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(cast(recent.c.success, Integer)), 0),
                        func.coalesce(func.avg(recent.c.latency_seconds), 0.0),
                    ).select_from(recent)
                ).one()
                out[tool] = ToolStats(
                    tool_id=tool,
                    runs=int(row[0]),
                    successes=int(row[1]),
                    avg_latency_seconds=float(row[2]),
                )
            return out

        return self.db.run(tx, write=False)

    def save_prompt(self, prompt: PromptInstance, *, project_id: str, now: datetime) -> None:
        """Store a prompt instance (idempotent) and note it in its run's log."""

        def tx(conn: Connection) -> None:
            exists = conn.execute(
                select(patch_prompts.c.prompt_instance_id).where(
                    patch_prompts.c.prompt_instance_id == prompt.prompt_instance_id
                )
            ).first()
            if exists is not None:
                return
            conn.execute(patch_prompts.insert().values(**prompt_row(prompt, project_id=project_id)))
            if prompt.run_id:
                payload = {
                    "prompt_instance_id": prompt.prompt_instance_id,
                    "template_id": prompt.template_id,
                    "target_tool": prompt.target_tool,
                    "kind": prompt.kind.value,
                }
                append_locked(
                    conn, prompt.run_id, [NewEvent(EventKind.PROMPT_RENDERED, payload)], now
                )

        self.db.run(tx)

    def get_prompt(self, prompt_instance_id: str) -> PromptInstance:
        """One prompt instance, or NotFound."""
        q = select(patch_prompts).where(patch_prompts.c.prompt_instance_id == prompt_instance_id)

        def tx(conn: Connection) -> PromptInstance:
            row = conn.execute(q).first()
            if row is None:
                raise NotFound(
                    f"prompt instance {prompt_instance_id} not found",
                    field="prompt_spec",
                )
            return prompt_from_row(row)

        return self.db.run(tx, write=False)

    def prompts_of_run(self, run_id: str) -> list[PromptInstance]:
        """The prompt instances stored with a run."""
        q = (
            select(patch_prompts)
            .where(patch_prompts.c.run_id == run_id)
            .order_by(patch_prompts.c.prompt_instance_id)
        )
        return self.db.run(lambda conn: [prompt_from_row(r) for r in conn.execute(q)], write=False)
